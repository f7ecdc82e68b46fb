"""Request and response bodies of login, logout, device revocation and the people directory."""

from flask_smorest.fields import Upload
from marshmallow import Schema, fields, validate

from accounts.models import ROLES
from core.schemas import PageOut, PageQuery, RowErrorOut
from core.times import AcceptedDate, ShownTime


class DeviceIn(Schema):
    id = fields.String(required=True, validate=validate.Length(min=1, max=128))
    name = fields.String(load_default=None, validate=validate.Length(max=200))
    platform = fields.String(load_default=None, validate=validate.Length(max=64))
    app_version = fields.String(load_default=None, validate=validate.Length(max=64))


class LoginIn(Schema):
    username = fields.String(required=True, validate=validate.Length(min=1, max=64))
    password = fields.String(required=True, validate=validate.Length(min=1, max=256))
    device = fields.Nested(DeviceIn, required=True)


class UserOut(Schema):
    id = fields.UUID()
    name = fields.String()
    username = fields.String()
    roles = fields.List(fields.String())
    region_code = fields.String()
    enterprise_id = fields.UUID(allow_none=True)
    enforcement_cert_no = fields.String(allow_none=True)


class LoginOut(Schema):
    token = fields.String()
    expires_at = ShownTime()
    user = fields.Nested(UserOut)
    device_id = fields.String()
    must_change_password = fields.Boolean(
        metadata={
            "description": "true：以临时密码登录，此令牌只能用于 POST /auth/password 修改密码（其他请求 403 "
            "auth.password_change_required）"
        }
    )


class DeviceOut(Schema):
    id = fields.String()
    name = fields.String(allow_none=True)
    platform = fields.String(allow_none=True)
    revoked_at = ShownTime(allow_none=True)


class PeopleQuery(PageQuery):
    role = fields.String(load_default=None, validate=validate.OneOf(ROLES))
    region = fields.String(
        load_default=None,
        validate=validate.Regexp(r"^[0-9]{12}$"),
        metadata={"description": "12 位区划代码：该区划（含下级）的人员"},
    )
    q = fields.String(load_default=None, validate=validate.Length(min=1, max=100), metadata={"description": "姓名包含"})


class PersonRegionOut(Schema):
    code = fields.String()
    name = fields.String()
    level = fields.String()


class EnforcementCertOut(Schema):
    number = fields.String(metadata={"description": "执法证号"})
    valid_until = fields.Date(allow_none=True, metadata={"description": "有效期至（未登记则为 null）"})
    valid = fields.Boolean(metadata={"description": "今日是否有效"})


class PersonOut(Schema):
    id = fields.UUID()
    name = fields.String()
    roles = fields.List(fields.String())
    region = fields.Nested(PersonRegionOut)
    enforcement_cert = fields.Nested(EnforcementCertOut, allow_none=True, metadata={"description": "执法人员的执法证"})
    active = fields.Boolean()


class PersonPageOut(PageOut):
    items = fields.List(fields.Nested(PersonOut))


class PersonRefOut(Schema):
    """A person a record names, as reads show them beside the ids (``people``: id → this)."""

    name = fields.String()
    enforcement_cert_no = fields.String(allow_none=True, metadata={"description": "执法证号（执法人员）"})


def people_field():
    return fields.Dict(
        keys=fields.String(),
        values=fields.Nested(PersonRefOut),
        metadata={"description": "记录中出现的人员：用户 id → 姓名与执法证号"},
    )


# --- people administration (personnel/admin.py, personnel/roster.py) ---------------------------------

USERNAME_FIELD = dict(
    validate=validate.Regexp(r"^[A-Za-z0-9_.@-]{2,64}$", error="用户名为 2–64 位字母、数字或 _ . @ -")
)
REGION_CODE = validate.Regexp(r"^[0-9]{12}$", error="应为 12 位区划代码")


class PasswordChangeIn(Schema):
    current_password = fields.String(
        required=True, validate=validate.Length(min=1, max=256), metadata={"description": "当前密码（含临时密码）"}
    )
    new_password = fields.String(
        required=True,
        validate=validate.Length(min=1, max=256),
        metadata={"description": "新密码：至少 8 位，字母、数字、符号中至少两类，不含用户名或手机号"},
    )


class UserQuery(PageQuery):
    role = fields.String(load_default=None, validate=validate.OneOf(ROLES))
    region = fields.String(
        load_default=None, validate=REGION_CODE, metadata={"description": "12 位区划代码：该区划（含下级）的人员"}
    )
    q = fields.String(
        load_default=None,
        validate=validate.Length(min=1, max=100),
        metadata={"description": "姓名、用户名或手机号包含"},
    )
    active = fields.Boolean(load_default=None, metadata={"description": "true 在用 / false 已停用；不填为全部"})


class UserPatch(Schema):
    version = fields.Integer(required=True, metadata={"description": "乐观锁：客户端看到的版本号"})
    name = fields.String(validate=validate.Length(min=1, max=100))
    roles = fields.List(
        fields.String(validate=validate.OneOf(ROLES)),
        validate=validate.Length(min=1, max=5),
        metadata={
            "description": "角色：admin、desk_officer、inspector、grid_worker、enterprise_officer（内勤不能授予 admin）"
        },
    )
    region = fields.String(
        validate=REGION_CODE,
        metadata={
            "description": "所属区划（12 位代码，须在本人辖区内）；新建时不填则企业安全员取企业所在村，"
            "网格员取首个网格的村（跨村取乡镇）"
        },
    )
    phone = fields.String(
        allow_none=True,
        validate=validate.Length(max=32),
        metadata={"description": "11 位中国大陆手机号（空格、横线、+86 会被去掉）；每个号码只属于一个账号"},
    )
    enterprise_id = fields.UUID(allow_none=True, metadata={"description": "企业安全员所属企业"})
    enforcement_cert_no = fields.String(
        allow_none=True, validate=validate.Length(min=1, max=64), metadata={"description": "执法证号（执法人员必填）"}
    )
    enforcement_cert_valid_until = AcceptedDate(allow_none=True, metadata={"description": "执法证有效期至"})
    grid_ids = fields.List(
        fields.UUID(),
        validate=validate.Length(max=50),
        metadata={"description": "网格员负责的网格（全部列出；修改时未列出的本辖区网格即撤下）"},
    )


class UserIn(UserPatch):
    class Meta:
        exclude = ("version",)

    username = fields.String(metadata={"description": "登录名；不填则用手机号"}, **USERNAME_FIELD)
    name = fields.String(required=True, validate=validate.Length(min=1, max=100))
    roles = fields.List(
        fields.String(validate=validate.OneOf(ROLES)),
        required=True,
        validate=validate.Length(min=1, max=5),
        metadata={
            "description": "角色：admin、desk_officer、inspector、grid_worker、enterprise_officer（内勤不能授予 admin）"
        },
    )


class UserVersionQuery(Schema):
    version = fields.Integer(load_default=None, metadata={"description": "可选的乐观锁版本号；过期则 409，附 current"})


class GridRefOut(Schema):
    id = fields.UUID()
    name = fields.String()


class UserAdminOut(Schema):
    id = fields.UUID()
    username = fields.String()
    name = fields.String()
    roles = fields.List(fields.String())
    region = fields.Nested(PersonRegionOut)
    phone = fields.String(allow_none=True)
    enterprise_id = fields.UUID(allow_none=True)
    enforcement_cert = fields.Nested(EnforcementCertOut, allow_none=True)
    grids = fields.List(fields.Nested(GridRefOut), metadata={"description": "当前负责的网格"})
    active = fields.Boolean()
    deactivated_at = ShownTime(allow_none=True)
    must_change_password = fields.Boolean(metadata={"description": "持临时密码，下次登录须先改密码"})
    version = fields.Integer()
    created_at = ShownTime()
    updated_at = ShownTime()


class UserWithPasswordOut(UserAdminOut):
    temporary_password = fields.String(
        metadata={"description": "临时密码：只在此次回答中出现一次；本人首次登录后须先修改"}
    )


class UserPageOut(PageOut):
    items = fields.List(fields.Nested(UserAdminOut))


class PersonDeviceOut(Schema):
    id = fields.String()
    name = fields.String(allow_none=True)
    platform = fields.String(allow_none=True)
    app_version = fields.String(allow_none=True)
    first_seen_at = ShownTime()
    last_seen_at = ShownTime(allow_none=True)
    last_login_at = ShownTime(metadata={"description": "此人最近一次在该设备上登录"})
    live_tokens = fields.Integer(metadata={"description": "此人在该设备上仍有效的令牌数"})
    revoked_at = ShownTime(allow_none=True)


class PersonDevicesOut(Schema):
    user_id = fields.UUID()
    devices = fields.List(fields.Nested(PersonDeviceOut))


class RosterImportQuery(Schema):
    dry_run = fields.Boolean(load_default=False, metadata={"description": "true：只检查，不写入"})


class RosterUploadIn(Schema):
    file = Upload(
        required=True, metadata={"description": "花名册 .xlsx（第一张工作表；表头：姓名、手机号、乡镇、村/社区、网格）"}
    )


class RosterPersonOut(Schema):
    row = fields.Integer()
    name = fields.String()
    phone = fields.String()
    username = fields.String(metadata={"description": "用户名：即手机号"})
    town = fields.String()
    village = fields.String()
    grid = fields.Nested(GridRefOut)
    user_id = fields.UUID(metadata={"description": "已导入时"})
    temporary_password = fields.String(metadata={"description": "已导入时：一次性临时密码，首次登录须修改"})


class RosterImportOut(Schema):
    dry_run = fields.Boolean()
    rows = fields.Integer(metadata={"description": "数据行数（空行不计）"})
    written = fields.Boolean(metadata={"description": "是否已写入"})
    created = fields.Integer()
    errors = fields.List(fields.Nested(RowErrorOut), metadata={"description": "通过时为空"})
    people = fields.List(fields.Nested(RosterPersonOut))
