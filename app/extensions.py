"""Flask extensions, created unbound; create_app() binds them."""

from typing import TYPE_CHECKING

from flask_login import LoginManager
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import MetaData, Table
from sqlalchemy.orm import DeclarativeBase

from app.replica import RoutingSession

# Named constraints keep Alembic migrations identical on SQLite and PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


# The session sends the reads of the views marked @reads_from_replica to the replica, when one is configured
# (app/replica.py); without one it is Flask-SQLAlchemy's own.
db = SQLAlchemy(model_class=Base, session_options={"class_": RoutingSession})

# The models' base. Flask-SQLAlchemy makes db.Model at run time (from Base, with the table names and the session
# bound), so a type checker cannot see it; to one, the models are what they are: declarative classes on Base.
if TYPE_CHECKING:
    Model = Base
else:
    Model = db.Model
login_manager = LoginManager()
csrf = CSRFProtect()


def table_of(model: type[Base]) -> Table:
    """A model's table, for the Core statements of the hot paths (SQLAlchemy types `__table__` as any FromClause)."""
    table = model.__table__
    assert isinstance(table, Table)
    return table
