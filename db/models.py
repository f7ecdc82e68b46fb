"""Imports every model module so the metadata is complete (Alembic, tests)."""
from accounts import models as _accounts  # noqa: F401
from audit import models as _audit  # noqa: F401
from cases import models as _cases  # noqa: F401
from checklists import models as _checklists  # noqa: F401
from documents import models as _documents  # noqa: F401
from enterprises import models as _enterprises  # noqa: F401
from evidence import models as _evidence  # noqa: F401
from geo import models as _geo  # noqa: F401
from inspections import models as _inspections  # noqa: F401
from jobs import models as _jobs  # noqa: F401
from reports import models as _reports  # noqa: F401
from public_reports import models as _public_reports  # noqa: F401
from sync import models as _sync  # noqa: F401
from db.base import Base

metadata = Base.metadata
