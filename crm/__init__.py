"""clinic-crm: the clinic's public website and the CRM behind its reach-out form."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def create_app(config: Mapping[str, Any] | None = None, *, web: bool = True) -> Flask:
    """Build the application; ``config`` overrides defaults and the ``CRM_*`` environment.

    ``web=False`` leaves out the pages (the site, intake and staff blueprints), their static
    files and page views: for a command that only reads and writes data (``crm export``),
    whose start-up they would be a third of.
    """
    from crm.accounts.auth import init_login
    from crm.cli import register_commands
    from crm.clinic.consent import check_consent_version
    from crm.leads import notifications
    from crm.platform import errors, i18n, security
    from crm.platform.config import load_config
    from crm.platform.database import configure_engine
    from crm.platform.extensions import csrf, db, limiter, login_manager, mail, migrate
    from crm.platform.http import ClinicRequest, IdConverter
    from crm.platform.logs import configure_logging
    from crm.templating import register_template_helpers

    app = i18n.LanguageAwareFlask(
        __name__,
        template_folder=str(PROJECT_ROOT / "templates"),
        instance_path=os.environ.get("CRM_INSTANCE_PATH", str(PROJECT_ROOT / "instance")),
        instance_relative_config=True,
    )
    load_config(app, config)
    # Every enquiry records the consent version it was given under; one without words is no record.
    check_consent_version(app.config["CONSENT_VERSION"])
    app.request_class = ClinicRequest
    configure_logging(app)

    proxies = int(app.config["TRUSTED_PROXIES"])
    if proxies > 0:
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies, x_port=proxies
        )

    import crm.models  # noqa: F401  (every model registered before the engine is used)

    db.init_app(app)
    migrate.init_app(app, db, directory=str(PROJECT_ROOT / "migrations"))
    csrf.init_app(app)
    mail.init_app(app)
    login_manager.init_app(app)
    init_login(login_manager)
    limiter.init_app(app)
    with app.app_context():
        configure_engine(db.engine, app.config["DATABASE_LOCK_TIMEOUT_MS"])

    # Before any blueprint: rules bind their converters when they are added.
    app.url_map.converters["int"] = IdConverter
    if web:
        _register_pages(app)

    register_template_helpers(app)
    register_commands(app)
    notifications.init_app(app)
    security.init_app(app)
    errors.init_app(app)
    # Inside the static files' middleware: /kn/static/... is not a second copy of /static/....
    i18n.init_app(app)
    if web:
        from crm.platform import assets
        from crm.site import page_views

        assets.init_app(app)
        page_views.init_app(app)
    return app


def _register_pages(app: Flask) -> None:
    from crm.intake import bp as intake_bp
    from crm.site import bp as site_bp
    from crm.staff import bp as staff_bp

    app.register_blueprint(site_bp)
    app.register_blueprint(intake_bp)
    app.register_blueprint(staff_bp)
