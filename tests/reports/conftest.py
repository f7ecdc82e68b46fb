"""The report tests reuse the hazard factories of the job tests and the inspection body builders."""

from tests.inspections.conftest import first_items, inspection_body, template_of  # noqa: F401
from tests.jobs.conftest import job_env, make_hazard, principal_of, run  # noqa: F401
