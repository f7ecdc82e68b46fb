"""``/auth/login``, ``/auth/logout``, ``/auth/password``, ``/devices/{id}`` (SYNC_PROTOCOL.md §1), the people
directory ``/people`` and people administration ``/users`` (personnel/admin.py, the roster import personnel/roster.py)."""

from __future__ import annotations

import uuid

from flask import g, request

from accounts import people, service
from personnel import admin, roster
from accounts.schemas import (
    DeviceOut,
    LoginIn,
    LoginOut,
    PasswordChangeIn,
    PeopleQuery,
    PersonDevicesOut,
    PersonOut,
    PersonPageOut,
    RosterImportOut,
    RosterImportQuery,
    RosterUploadIn,
    UserAdminOut,
    UserIn,
    UserPageOut,
    UserPatch,
    UserQuery,
    UserVersionQuery,
    UserWithPasswordOut,
)
from api.auth import authenticated
from api.context import clock, db, services, settings
from api.errors import domain_problem
from api.inputs import Blueprint
from api.paging import linked_pages

blp = Blueprint("auth", __name__, url_prefix="/api/v1", description="登录、注销与设备管理")
people_blp = Blueprint("people", __name__, url_prefix="/api/v1/people", description="人员名录")
users_blp = Blueprint(
    "users",
    __name__,
    url_prefix="/api/v1/users",
    description="人员管理：新建、修改、停用账号，重置密码，设备，花名册导入（管理员与本辖区内勤）",
)


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
        attempt = service.reserve_login_attempt(
            throttle, clock(), settings(), username=body["username"], address=address
        )
    try:
        result = service.login(
            db(),
            clock(),
            settings(),
            attempt=attempt,
            username=body["username"],
            password=body["password"],
            device=service.DeviceInfo(**body["device"]),
            address=address,
        )
    except service.DeviceRevoked as err:
        # Returned, not raised: the right password must still be committed as a success.
        return domain_problem(err)
    p = result.principal
    body = {
        "token": result.token,
        "expires_at": result.expires_at,
        "device_id": p.device_id,
        "user": {
            "id": p.user_id,
            "name": p.name,
            "username": p.username,
            "roles": sorted(p.roles),
            "region_code": p.region_code,
            "enterprise_id": p.enterprise_id,
            "enforcement_cert_no": p.enforcement_cert_no,
        },
        "must_change_password": p.must_change_password,
    }
    # The answer carries a bearer token: no cache on the way may keep it (RFC 6749 §5.1).
    return body, {"Cache-Control": "no-store"}


@blp.route("/auth/logout", methods=["POST"])
@blp.response(204)
@authenticated(while_password_temporary=True)
def logout():
    """注销：吊销当前令牌"""
    service.logout(db(), clock(), g.principal, g.token)


@blp.route("/auth/password", methods=["POST"])
@authenticated(while_password_temporary=True)
@blp.arguments(PasswordChangeIn)
@blp.response(204)
@blp.alt_response(422, description="auth.wrong_password：当前密码不正确；auth.weak_password：新密码不符合要求")
@blp.alt_response(429, description="auth.throttled：失败次数过多（与登录共用计数）")
def change_password(body):
    """修改本人密码（以临时密码登录后唯一可做的事）

    须给出当前密码；失败次数与登录共用同一限流。成功后本人其他设备上的令牌全部失效，
    当前令牌继续有效并恢复全部权限。"""
    address = request.remote_addr or "unknown"
    with services().session_factory.begin() as throttle:
        attempt = service.reserve_login_attempt(
            throttle, clock(), settings(), username=g.principal.username, address=address
        )
    service.change_password(
        db(),
        clock(),
        g.principal,
        attempt=attempt,
        token=g.token,
        current_password=body["current_password"],
        new_password=body["new_password"],
    )


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


# --- people administration -------------------------------------------------------------------------


@users_blp.route("")
@authenticated("desk_officer", "admin")
@users_blp.arguments(UserQuery, location="query")
@users_blp.response(200, UserPageOut)
@linked_pages(users_blp)
def list_users(query):
    """账号列表（管理员全部；内勤为本辖区内除管理员外的人员），含手机号、网格、是否停用"""
    page = admin.list_users(db(), clock(), g.principal, **query)
    return {"items": page.items, "page": page.page, "per_page": page.per_page, "total": page.total}


@users_blp.route("", methods=["POST"])
@authenticated("desk_officer", "admin")
@users_blp.arguments(UserIn)
@users_blp.response(201, UserWithPasswordOut)
@users_blp.alt_response(403, description="users.role_not_allowed：内勤不能授予管理员角色")
@users_blp.alt_response(409, description="users.username_taken / users.phone_taken")
def create_user(body):
    """新建账号：回答中给出一次临时密码，本人首次登录须先修改

    用户名不填则用手机号。执法人员须有执法证号；企业安全员须关联企业；网格员可同时分配网格（grid_ids）。"""
    return admin.create_user(db(), clock(), g.principal, body)


@users_blp.route("/import", methods=["POST"])
@authenticated("desk_officer", "admin")
@users_blp.arguments(RosterImportQuery, location="query")
@users_blp.arguments(RosterUploadIn, location="files")
@users_blp.response(200, RosterImportOut, description="dry_run=true 且全部通过：将要创建的人员（未写入）")
@users_blp.alt_response(201, schema=RosterImportOut, description="已导入：每人的用户名（手机号）与一次性临时密码")
@users_blp.alt_response(413, description="roster.too_large")
@users_blp.alt_response(
    422,
    description="roster.invalid：有错误行，什么也没有写入；errors 逐行逐列列出（field 为 "
    "rows.行号.列名），report 为完整报告；roster.unreadable：不是 xlsx",
)
def import_roster(query, files):
    """导入网格员花名册（xlsx：姓名、手机号、乡镇、村/社区、网格）

    全部行通过检查才写入，一个事务；任何一行有错则什么也不写，并逐行列出错误（行号、列、原因）。
    dry_run=true 只检查。用户名为手机号，角色为网格员，所属区划为所填村/社区，并分配到所填网格
    （网格可不填：该村恰有一个网格时即用它）。临时密码只在成功导入的回答中出现一次。"""
    upload = files["file"]
    report = roster.import_roster(
        db(),
        clock(),
        g.principal,
        upload.read(roster.MAX_FILE_BYTES + 1),
        dry_run=query["dry_run"],
        filename=upload.filename,
    )
    return report.as_dict(), 200 if report.dry_run else 201


@users_blp.route("/<uuid:user_id>")
@authenticated("desk_officer", "admin")
@users_blp.etag
@users_blp.response(200, UserAdminOut)
def get_user(user_id: uuid.UUID):
    """账号详情"""
    return admin.get_user(db(), clock(), g.principal, user_id)


@users_blp.route("/<uuid:user_id>", methods=["PATCH"])
@authenticated("desk_officer", "admin")
@users_blp.etag
@users_blp.arguments(UserPatch)
@users_blp.response(200, UserAdminOut)
@users_blp.alt_response(403, description="users.role_not_allowed")
@users_blp.alt_response(409, description="版本冲突（附 current）；users.phone_taken")
def update_user(changes, user_id: uuid.UUID):
    """修改账号：姓名、角色、所属区划、手机号、企业、执法证号与有效期、网格（带 version 乐观锁）"""
    users_blp.check_etag(admin.get_user(db(), clock(), g.principal, user_id), UserAdminOut)
    changed = admin.update_user(db(), clock(), g.principal, user_id, changes)
    users_blp.set_etag(changed, UserAdminOut)
    return changed


@users_blp.route("/<uuid:user_id>", methods=["DELETE"])
@authenticated("desk_officer", "admin")
@users_blp.etag
@users_blp.arguments(UserVersionQuery, location="query")
@users_blp.response(200, UserAdminOut)
@users_blp.alt_response(
    409, description="users.deactivated：已停用；users.self：不能停用自己；或 version 已过期（附 current）"
)
def deactivate_user(query, user_id: uuid.UUID):
    """停用账号：不能再登录，其所有令牌立即失效（下一次请求 401），撤下其网格；账号及其记录保留"""
    users_blp.check_etag(admin.get_user(db(), clock(), g.principal, user_id), UserAdminOut)
    return admin.deactivate_user(db(), clock(), g.principal, user_id, query["version"])


@users_blp.route("/<uuid:user_id>/reactivate", methods=["POST"])
@authenticated("desk_officer", "admin")
@users_blp.arguments(UserVersionQuery, location="query")
@users_blp.response(200, UserAdminOut)
@users_blp.alt_response(409, description="version 已过期（附 current）")
def reactivate_user(query, user_id: uuid.UUID):
    """恢复已停用的账号（密码不变；网格须重新分配）"""
    return admin.reactivate_user(db(), clock(), g.principal, user_id, query["version"])


@users_blp.route("/<uuid:user_id>/password-reset", methods=["POST"])
@authenticated("desk_officer", "admin")
@users_blp.response(200, UserWithPasswordOut)
@users_blp.alt_response(409, description="users.deactivated")
def reset_password(user_id: uuid.UUID):
    """重置密码为临时密码（回答中给出一次）：原密码与其所有令牌立即失效，下次登录须先修改"""
    return admin.reset_password(db(), clock(), g.principal, user_id)


@users_blp.route("/<uuid:user_id>/devices")
@authenticated("desk_officer", "admin")
@users_blp.response(200, PersonDevicesOut)
def list_user_devices(user_id: uuid.UUID):
    """此人登录过的设备（最近登录在前），及其仍有效的令牌数"""
    return admin.list_devices(db(), clock(), g.principal, user_id)


@users_blp.route("/<uuid:user_id>/devices/<device_id>", methods=["DELETE"])
@authenticated("desk_officer", "admin")
@users_blp.response(200, DeviceOut)
def revoke_user_device(user_id: uuid.UUID, device_id: str):
    """停用此人登录过的设备（如手机丢失）：该设备上的所有令牌立即失效，之后也不能在其上登录"""
    return admin.revoke_person_device(db(), clock(), g.principal, user_id, device_id)
