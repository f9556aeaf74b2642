"""The reach-out form embedded on every marketing page."""

from __future__ import annotations

import re
import secrets

from flask import current_app
from flask_wtf import FlaskForm
from markupsafe import Markup
from wtforms import BooleanField, Field, HiddenField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional, Regexp, ValidationError

from crm.clinic.consent import current_consent
from crm.intake.spam import link_count
from crm.leads.catalogue import INTERESTS
from crm.platform.contact import (
    InvalidContact,
    clean_text,
    normalise_email,
    normalise_name,
    normalise_phone,
    unsafe_characters,
)
from crm.platform.i18n import N_, gettext, locale_language
from crm.platform.i18n import lazy_gettext as _l

# In English here; each is shown through gettext, in the visitor's language.
SUCCESS_MESSAGE = N_("Thank you! Your submission has been received!")
NAME_ADDRESS_ERROR = N_(
    "Please write just your name, without a web or email address (put a space after any dot)."
)
FAILURE_MESSAGE = N_("Oops! Something went wrong while submitting the form.")

NAME_MAX = 120
EMAIL_MAX = 254
MESSAGE_MAX = 2000
UTM_MAX = 200
SOURCE_PAGE_MAX = 500

# The fields a visitor fills in. Untouched (a fresh form on a page), each renders the same
# tag every time for the same branches and preselection, and WTForms takes longer building
# these tags than the rest of the page; so they are built once per process. Hidden fields
# carry per-page tokens, page paths and campaign tags from the visitor: never kept.
VISIBLE_FIELDS = frozenset(
    {"name", "phone", "email", "branch", "interest", "message", "consent", "website"}
)
_FRESH_TAGS_MAX = 256
_fresh_tags: dict[str, Markup] = {}


def new_submission_token() -> str:
    return secrets.token_urlsafe(24)


def _normalised(normalise):  # type: ignore[no-untyped-def]
    """A WTForms validator that stores the normalised value or reports why it was refused."""

    def validator(_form: FlaskForm, field) -> None:  # type: ignore[no-untyped-def]
        if field.errors:
            return  # one reason per field is enough (e.g. too long)
        try:
            field.data = normalise(field.data)
        except InvalidContact as error:
            # The message is kept in English where it is written (staff forms use it too).
            raise ValidationError(gettext(str(error))) from error

    return validator


def _plain_text(_form: FlaskForm, field) -> None:  # type: ignore[no-untyped-def]
    if field.errors:
        return
    field.data = clean_text(field.data, multiline=True)
    if unsafe_characters(field.data, multiline=True):
        raise ValidationError(
            gettext("Please remove invisible or control characters from your message.")
        )
    most = current_app.config["MESSAGE_MAX_LINKS"]
    if link_count(field.data) > most:
        raise ValidationError(
            gettext(
                "Please include no more than %(most)d links; "
                "we will ask for anything else on the phone.",
                most=most,
            )
        )


# What a mail program or browser would take for an address: a scheme, "www.", an email address,
# a dot between two parts of two or more characters ("evil.example", "login.bank.example"), or
# a dot before a lower-case word ("x.co"); also with the full-width and ideographic dots that
# domain names accept. Initials keep their dots ("A.P.J. Abdul Kalam", "S.Ramesh"); "Dr.Ravi"
# is asked for as "Dr. Ravi".
_DOTS = ".\u3002\uff0e\uff61"
_ADDRESS_LIKE = re.compile(
    rf"://|@|\b[wW]{{3}}[{_DOTS}]"
    rf"|[^\s{_DOTS}]{{2,}}[{_DOTS}][^\s{_DOTS}]{{2,}}"
    rf"|[^\s{_DOTS}][{_DOTS}][a-z]{{2,}}"
)


def _no_address_in_name(_form: FlaskForm, field) -> None:  # type: ignore[no-untyped-def]
    """A person's name holds no link, domain or email address.

    The name is shown to staff and would be the one piece of visitor text worth planting in
    mail to others; a name never needs one, so the form says so instead of storing it.
    """
    if field.errors:
        return
    if _ADDRESS_LIKE.search(field.data or ""):
        raise ValidationError(gettext(NAME_ADDRESS_ERROR))


class MetadataField(HiddenField):
    """Page metadata the visitor never sees (campaign tags, page): cleaned and cut to length,
    never a reason to refuse a form, since the visitor could not correct it."""

    def __init__(self, *args, max_length: int, **kwargs) -> None:  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self.max_length = max_length

    def process_formdata(self, valuelist: list[str]) -> None:
        text = clean_text(valuelist[0] if valuelist else "")
        self.data = "".join(ch for ch in text if not unsafe_characters(ch))[: self.max_length]


def _offered_choice(message: str):  # type: ignore[no-untyped-def]
    def validator(form: ReachOutForm, field) -> None:  # type: ignore[no-untyped-def]
        if field.data not in form.offered[field.name]:
            raise ValidationError(str(message))

    return validator


class ReachOutForm(FlaskForm):
    class Meta:
        def render_field(self, field: Field, render_kw: dict[str, object]) -> Markup:
            if field.name not in VISIBLE_FIELDS or field.raw_data is not None or field.errors:
                return super().render_field(field, render_kw)  # type: ignore[misc]
            # Everything that shapes the tag: a different value or choice is another entry.
            key = repr(
                (
                    locale_language(),  # the same field has other words in another language
                    field.id,
                    field.name,
                    field.data,
                    getattr(field, "choices", None),
                    sorted(render_kw.items()),
                    field.render_kw,
                )
            )
            tag = _fresh_tags.get(key)
            if tag is None:
                tag = super().render_field(field, render_kw)  # type: ignore[misc]
                if len(_fresh_tags) < _FRESH_TAGS_MAX:
                    _fresh_tags[key] = tag
            return tag

    name = StringField(
        _l("Your name"),
        validators=[
            DataRequired(_l("Please tell us your name.")),
            Length(
                max=NAME_MAX,
                message=_l("Please keep your name under %(max)d characters.", max=NAME_MAX),
            ),
            _normalised(normalise_name),
            _no_address_in_name,
        ],
        render_kw={"autocomplete": "name", "maxlength": NAME_MAX},
    )
    phone = StringField(
        _l("Phone number"),
        validators=[
            DataRequired(_l("Please give a phone number we can call you on.")),
            _normalised(normalise_phone),
        ],
        render_kw={"autocomplete": "tel", "inputmode": "tel", "maxlength": 32},
    )
    email = StringField(
        _l("Email (optional)"),
        validators=[
            Optional(),
            Length(max=EMAIL_MAX, message=_l("That email address is too long.")),
            _normalised(normalise_email),
        ],
        render_kw={"autocomplete": "email", "inputmode": "email", "maxlength": EMAIL_MAX},
    )
    branch = SelectField(
        _l("Nearest clinic"),
        validators=[
            DataRequired(_l("Please choose the clinic nearest to you.")),
            _offered_choice(_l("Please choose one of our clinics from the list.")),
        ],
        validate_choice=False,
    )
    interest = SelectField(
        _l("How can we help? (optional)"),
        choices=[SelectChoice("", _l("Choose one…"))]
        + [SelectChoice(key, _l(label)) for key, label in INTERESTS.items()],
        validators=[Optional(), _offered_choice(_l("Please choose one of the options."))],
        validate_choice=False,
    )
    message = TextAreaField(
        _l("Message (optional)"),
        validators=[
            Optional(),
            Length(
                max=MESSAGE_MAX,
                message=_l("Please keep your message under %(max)d characters.", max=MESSAGE_MAX),
            ),
            _plain_text,
        ],
        render_kw={"rows": 4, "maxlength": MESSAGE_MAX},
    )
    consent = BooleanField(
        # The words are the current version's from the consent registry (set in __init__), so
        # the label always matches the CONSENT_VERSION stored with the enquiry.
        "I agree.",
        validators=[DataRequired(_l("Please tick the box so we may contact you."))],
    )
    submission_token = HiddenField(
        validators=[
            DataRequired(_l("This form is out of date. Please reload the page and try again.")),
            Regexp(r"^[A-Za-z0-9_-]{16,64}$", message=_l("This form is out of date.")),
        ]
    )
    source_page = MetadataField(max_length=SOURCE_PAGE_MAX)
    # When the form was shown, signed: a form sent back too soon was not filled in by a person.
    shown_at = MetadataField(max_length=100)
    utm_source = MetadataField(max_length=UTM_MAX)
    utm_medium = MetadataField(max_length=UTM_MAX)
    utm_campaign = MetadataField(max_length=UTM_MAX)
    utm_term = MetadataField(max_length=UTM_MAX)
    utm_content = MetadataField(max_length=UTM_MAX)
    # Honeypot: hidden from people by CSS, filled in by bots that fill in everything.
    website = StringField(
        # Translators: the label of a field hidden from people, which only robots fill in.
        _l("Leave this field empty"),
        render_kw={"autocomplete": "off", "tabindex": "-1"},
    )

    def __init__(self, *args, branches: list[tuple[str, str]], **kwargs) -> None:  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self.branch.choices = [SelectChoice("", gettext("Choose a clinic…"))] + [
            SelectChoice(slug, city) for slug, city in branches
        ]
        self.offered = {"branch": {slug for slug, _ in branches}, "interest": set(INTERESTS)}
        self.consent.label.text = current_consent().label

    def field_errors(self) -> dict[str, list[str]]:
        """Errors keyed by the public field names, without the CSRF token's."""
        return {
            name: [str(error) for error in errors]
            for name, errors in self.errors.items()
            if name != "csrf_token"
        }
