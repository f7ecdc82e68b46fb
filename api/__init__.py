"""The HTTP shell: app factory, unit of work, auth, problem+json errors; blueprints live in the domain packages."""
