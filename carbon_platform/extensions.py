"""The Flask extensions, created unbound here and bound to an app in create_app."""

from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect

from carbon_platform.models.base import Base

# Objects stay loaded after a commit, so a view commits and then dumps what the service returned with its
# schema (a commit that expired them would make the dump reload each one, or fail on a deleted row).
db = SQLAlchemy(model_class=Base, session_options={"expire_on_commit": False})
migrate = Migrate()
csrf = CSRFProtect()
babel = Babel()
# No default limits: each throttled endpoint states its own.
limiter = Limiter(key_func=get_remote_address, default_limits=[])
