"""What a web server serves: `gunicorn 'app.wsgi:application'`, `waitress-serve app.wsgi:application`.

The app without its command-line tools: Alembic and the commands load only in `flask …` processes, not in every
worker. Migrations are applied by `flask init-db` before the server starts (README, "Production")."""

from app import create_app

application = create_app(commands=False)
