"""Configuration: environment variables, the development secret and production's demands."""

from __future__ import annotations

import pytest

from crm import create_app
from crm.platform.config import ConfigError


def test_production_refuses_to_start_without_a_secret_key(monkeypatch, tmp_path):
    monkeypatch.setenv("CRM_ENV", "production")
    monkeypatch.setenv("CRM_INSTANCE_PATH", str(tmp_path))
    with pytest.raises(ConfigError, match="CRM_SECRET_KEY"):
        create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://"})


def test_production_with_a_secret_uses_secure_cookies(monkeypatch, tmp_path):
    monkeypatch.setenv("CRM_ENV", "production")
    monkeypatch.setenv("CRM_SECRET_KEY", "s" * 64)
    monkeypatch.setenv("CRM_INSTANCE_PATH", str(tmp_path))
    app = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://"})
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"
    assert not (tmp_path / "secret_key").exists()


def test_development_generates_a_secret_once_into_the_instance_folder(monkeypatch, tmp_path):
    monkeypatch.setenv("CRM_INSTANCE_PATH", str(tmp_path))
    first = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://"})
    key_file = tmp_path / "secret_key"
    assert key_file.exists()
    assert key_file.stat().st_mode & 0o077 == 0
    second = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://"})
    assert first.config["SECRET_KEY"] == second.config["SECRET_KEY"] == key_file.read_text()
    assert len(first.config["SECRET_KEY"]) == 64


def test_environment_variables_are_parsed(monkeypatch, tmp_path):
    monkeypatch.setenv("CRM_INSTANCE_PATH", str(tmp_path))
    monkeypatch.setenv("CRM_MAIL_PORT", "2525")
    monkeypatch.setenv("CRM_RATELIMIT_ENABLED", "false")
    monkeypatch.setenv("CRM_FORM_MIN_FILL_SECONDS", "5")
    app = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://"})
    assert app.config["MAIL_PORT"] == 2525
    assert app.config["RATELIMIT_ENABLED"] is False
    assert app.config["FORM_MIN_FILL_SECONDS"] == 5


def test_default_database_is_sqlite_in_the_instance_folder(monkeypatch, tmp_path):
    monkeypatch.setenv("CRM_INSTANCE_PATH", str(tmp_path))
    app = create_app()
    assert app.config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path / 'crm.sqlite3'}"
