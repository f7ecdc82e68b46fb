"""``/auth/login``, ``/auth/logout``, ``/devices/{id}`` (SYNC_PROTOCOL.md §1) and the people directory ``/people``."""
from __future__ import annotations

import uuid

from flask import g, request

from accounts import people, service
from accounts.schemas import DeviceOut, LoginIn, LoginOut, PeopleQuery, PersonOut, PersonPageOut
from api.auth import authenticated
from api.context import clock, db, services, settings
from api.errors import domain_problem
from api.inputs import Blueprint
from api.paging import linked_pages

blp = Blueprint("auth", __name__, url_prefix="/api/v1", description="登录、注销与设备管理")
people_blp = Blueprint("people", __name__, url_prefix="/api/v1/people", description="人员名录")


@blp.route("/auth/login", methods=["POST"])
@blp.doc(security=[])
@blp.arguments(LoginIn)
@blp.response(200, LoginOut)
@blp.alt_response(401, description="auth.invalid_credentials / auth.device_revoked")
@blp.alt_response(429, description="auth.throttled")
def login(body):
    """登录：令牌绑定到设备"""
    address = request.remote_addr or "unknown"
    # A unit of work of its own, committed before the password is checked: the attempt counts whatever
    # becomes of this request, and concurrent guesses see it.
    with services().session_factory.begin() as throttle:
        attempt = service.reserve_login_attempt(throttle, clock(), settings(), username=body["username"],
                                                address=address)
    try:
        result = service.login(db(), clock(), settings(), attempt=attempt, username=body["username"],
                               password=body["password"], device=service.DeviceInfo(**body["device"]),
                               address=address)
    except service.DeviceRevoked as err:
        # Returned, not raised: the right password must still be committed as a success.
        return domain_problem(err)
    p = result.principal
    body = {
        "token": result.token,
        "expires_at": result.expires_at,
        "device_id": p.device_id,
        "user": {"id": p.user_id, "name": p.name, "username": p.username, "roles": sorted(p.roles),
                 "region_code": p.region_code, "enterprise_id": p.enterprise_id,
                 "enforcement_cert_no": p.enforcement_cert_no},
    }
    # The answer carries a bearer token: no cache on the way may keep it (RFC 6749 §5.1).
    return body, {"Cache-Control": "no-store"}


@blp.route("/auth/logout", methods=["POST"])
@blp.response(204)
@authenticated
def logout():
    """注销：吊销当前令牌"""
    service.logout(db(), clock(), g.principal, g.token)


@blp.route("/devices/<device_id>", methods=["DELETE"])
@blp.response(200, DeviceOut)
@authenticated("desk_officer", "admin")
def revoke_device(device_id):
    """停用丢失的设备：该设备上的所有令牌立即失效"""
    return service.revoke_device(db(), clock(), g.principal, device_id)


@people_blp.route("")
@authenticated
@people_blp.arguments(PeopleQuery, location="query")
@people_blp.response(200, PersonPageOut)
@linked_pages(people_blp)
def list_people(query):
    """人员名录：姓名、角色、所属区划，执法人员另有执法证号与有效期（不含电话、密码）

    范围同其他读取：内勤与执法人员为本辖区，网格员为其网格所在村与乡镇，企业安全员仅本人。"""
    page = people.list_people(db(), clock(), g.principal, **query)
    return {"items": page.items, "page": page.page, "per_page": page.per_page, "total": page.total}


@people_blp.route("/<uuid:user_id>")
@authenticated
@people_blp.response(200, PersonOut)
def get_person(user_id: uuid.UUID):
    """人员"""
    return people.get_person(db(), clock(), g.principal, user_id)
