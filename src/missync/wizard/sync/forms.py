"""The wizard's forms. Each checks what the browser sent against what this school's export holds, so a
hand-edited field (an unknown format, "Year 99", a subject group that is not there) gets a clear
message and changes nothing."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from django import forms
from django.core.files.uploadedfile import UploadedFile
from django.utils.text import slugify

from missync.core.passwords import PASSWORD_FORMATS
from missync.core.roster import SourceError
from missync.core.usernames import USERNAME_FORMATS
from missync.core.years import YEAR_GROUPS
from missync.sources import wonde, xporter
from missync.sources.http import check_base_url

from .state import MAX_UPLOAD_BYTES, UPLOAD_SUFFIXES


class WizardForm(forms.Form):
    """Links each error to its control (aria-describedby, aria-invalid) once the form is checked."""

    def link_errors(self) -> None:
        for name in self.errors:
            if name in self.fields:
                field, attrs = self[name], self.fields[name].widget.attrs
                described = [f"{field.auto_id}-error", attrs.get("aria-describedby", "")]
                if field.help_text:
                    described.append(f"{field.auto_id}_helptext")
                attrs["aria-describedby"] = " ".join(part for part in described if part)
                attrs["aria-invalid"] = "true"

    def error_list(self) -> list[tuple[str, str]]:
        """(field id, message) for the error summary at the top of the page."""
        found: list[tuple[str, str]] = []
        for name, messages in self.errors.items():
            target = ""
            if name in self.fields:
                target = self[name].auto_id
                if isinstance(self.fields[name].widget, (forms.RadioSelect, forms.CheckboxSelectMultiple)):
                    target += "_0"  # a group of choices: go to its first one
            found.extend((target, message) for message in messages)
        return found


def _check_upload(upload: UploadedFile | None, what: str) -> UploadedFile | None:
    if upload is None:
        return None
    name = Path(upload.name or "").name
    if Path(name).suffix.lower() not in UPLOAD_SUFFIXES:
        hint = " (save it from Excel as .xlsx or .csv)" if name.lower().endswith(".xls") else ""
        raise forms.ValidationError(
            f"{name or 'The file'} is not a file missync reads{hint}: the {what} must be a OneRoster zip, "
            "or a CSV or XLSX spreadsheet."
        )
    if upload.size is not None and upload.size > MAX_UPLOAD_BYTES:
        raise forms.ValidationError(
            f"{name} is too large ({upload.size // (1024 * 1024)} MB): the limit is "
            f"{MAX_UPLOAD_BYTES // (1024 * 1024)} MB."
        )
    if upload.size == 0:
        raise forms.ValidationError(f"{name} is empty: export it from your MIS again.")
    return upload


class UploadForm(WizardForm):
    export = forms.FileField(
        label="MIS export",
        help_text="A OneRoster zip, or a CSV or XLSX spreadsheet of pupils and staff (or of pupils only).",
        widget=forms.FileInput(attrs={"accept": ",".join(UPLOAD_SUFFIXES)}),
        error_messages={"required": "Choose your MIS export file to upload."},
    )
    staff_export = forms.FileField(
        label="Staff spreadsheet (optional)",
        help_text="Only if your MIS exports staff in a separate CSV or XLSX file.",
        required=False,
        widget=forms.FileInput(attrs={"accept": ",".join(UPLOAD_SUFFIXES)}),
    )

    def clean_export(self) -> UploadedFile | None:
        return _check_upload(self.cleaned_data.get("export"), "MIS export")

    def clean_staff_export(self) -> UploadedFile | None:
        return _check_upload(self.cleaned_data.get("staff_export"), "staff spreadsheet")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        export, staff = data.get("export"), data.get("staff_export")
        if export is not None and staff is not None and Path(export.name or "").suffix.lower() == ".zip":
            self.add_error(
                "staff_export",
                "A OneRoster zip already holds the staff: upload the zip on its own, "
                "or two spreadsheets (pupils and staff).",
            )
        return data

    def files_to_save(self) -> list[UploadedFile]:
        return [f for f in (self.cleaned_data["export"], self.cleaned_data.get("staff_export")) if f]


_USERNAME_ERRORS = {
    "invalid_choice": "“%(value)s” is not a username format: choose one of the formats listed.",
    "required": "Choose a username format.",
}


class UsernamesForm(WizardForm):
    pupil_username_format = forms.ChoiceField(
        label="Username format for new pupils",
        choices=list(USERNAME_FORMATS.items()),
        widget=forms.RadioSelect,
        error_messages=_USERNAME_ERRORS,
    )
    staff_username_format = forms.ChoiceField(
        label="Username format for new staff",
        choices=list(USERNAME_FORMATS.items()),
        widget=forms.RadioSelect,
        error_messages=_USERNAME_ERRORS,
    )


def password_field_name(year_group: str) -> str:
    return "password-" + slugify(year_group)


class PasswordsForm(WizardForm):
    """One password format per platform year group in the export."""

    def __init__(self, year_groups: list[str], example_url: str, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.year_groups = year_groups
        for year in year_groups:
            name = password_field_name(year)
            # The example beside each select is fetched again when the format changes (htmx); without
            # JavaScript it is shown again after Next or Back.
            example = {
                "hx-get": example_url,
                "hx-trigger": "change",
                "hx-include": "this",
                "hx-target": f"#id_{name}-example",
                "aria-describedby": f"id_{name}-example",
            }
            self.fields[name] = forms.ChoiceField(
                label=f"Password format for new pupils in {year}",
                choices=list(PASSWORD_FORMATS.items()),
                widget=forms.Select(attrs=example),
                error_messages={
                    "invalid_choice": f"“%(value)s” is not a password format: choose one for {year} "
                    "from the list.",
                    "required": f"Choose a password format for {year}.",
                },
            )

    def formats(self) -> dict[str, str]:
        return {year: self.cleaned_data[password_field_name(year)] for year in self.year_groups}


class YearsForm(WizardForm):
    """Each MIS year name in the export mapped to a platform year group; none may be left unmapped."""

    def __init__(self, mis_names: list[str], *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.mis_names = mis_names
        for index, name in enumerate(mis_names):
            self.fields[f"year-{index}"] = forms.ChoiceField(
                label=f"MIS year “{name}”",
                choices=[("", "Choose a year group")] + [(year, year) for year in YEAR_GROUPS],
                error_messages={
                    "required": f"Choose the year group that the MIS year “{name}” means.",
                    "invalid_choice": f"“%(value)s” is not a platform year group: choose one for “{name}” "
                    "from the list.",
                },
            )

    def mapping(self) -> dict[str, str]:
        return {name: self.cleaned_data[f"year-{i}"] for i, name in enumerate(self.mis_names)}


class SubjectsForm(WizardForm):
    def __init__(self, names: list[str], *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["subject_groups"] = forms.MultipleChoiceField(
            label="Subject groups to import",
            choices=[(name, name) for name in names],
            required=False,
            widget=forms.CheckboxSelectMultiple,
            error_messages={
                "invalid_choice": "“%(value)s” is not a subject group in this export: tick groups from "
                "the list."
            },
        )


# -- step 0, read live: registering with a data provider ------------------------------------------------
_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,79}")


def _address(value: str, provider: str) -> str:
    """A provider's web address: https (plain http only for a test server on this machine)."""
    try:
        return check_base_url(value, provider)
    except SourceError:
        raise forms.ValidationError(
            f"“{value}” is not a web address missync can use: it must start with https://"
        ) from None


def _identifier(value: str, what: str) -> str:
    value = value.strip()
    if not _ID.fullmatch(value):
        raise forms.ValidationError(
            f"{what} is letters, digits, dots, dashes or underscores only, with no spaces."
        )
    return value


class ProviderForm(WizardForm):
    """The settings of one provider's connection. The secret is a password input, never shown again:
    when changing a connection's settings it may be left blank to keep the secret already stored.

    `settings()` gives what `connections.services.register` takes, the secret under "secret"."""

    provider = ""
    secret_field = ""
    secret_required_message = ""

    def __init__(self, *args: Any, has_secret: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.has_secret = has_secret
        field = self.fields[self.secret_field]
        field.required = not has_secret
        field.error_messages["required"] = self.secret_required_message
        if has_secret:
            field.help_text = (
                f"Leave it blank to keep the {field.label.lower()} missync already has. {field.help_text}"
            )

    def secret(self) -> str:
        return self.cleaned_data.get(self.secret_field) or ""

    def settings(self) -> dict[str, str]:
        raise NotImplementedError


def _secret_input() -> forms.PasswordInput:
    # Never rendered back into the page (render_value=False); browsers are asked not to fill it in.
    return forms.PasswordInput(
        render_value=False, attrs={"autocomplete": "new-password", "spellcheck": "false"}
    )


def _text_input(**attrs: str) -> forms.TextInput:
    return forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false", **attrs})


class WondeForm(ProviderForm):
    provider = "wonde"
    secret_field = "token"
    secret_required_message = "Enter the token Wonde gave you for missync."

    school_id = forms.CharField(
        label="Wonde school id",
        help_text="The school's id in the Wonde portal, e.g. A1930499544.",
        max_length=80,
        widget=_text_input(),
        error_messages={"required": "Enter the school's Wonde id."},
    )
    base_url = forms.CharField(
        label="Region API address",
        initial=wonde.WONDE_UK,
        help_text=f"Wonde's API address for the school's region: {wonde.WONDE_UK} for UK schools.",
        max_length=300,
        widget=_text_input(inputmode="url"),
        error_messages={"required": "Enter the Wonde API address for the school's region."},
    )
    token = forms.CharField(
        label="Token",
        help_text="Wonde's API token for missync. It is stored encrypted and never shown again.",
        max_length=500,
        strip=True,
        widget=_secret_input(),
    )

    def clean_school_id(self) -> str:
        return _identifier(self.cleaned_data["school_id"], "A Wonde school id")

    def clean_base_url(self) -> str:
        return _address(self.cleaned_data["base_url"], "Wonde")

    def settings(self) -> dict[str, str]:
        data = self.cleaned_data
        return {"school_id": data["school_id"], "base_url": data["base_url"], "secret": self.secret()}


class XporterForm(ProviderForm):
    provider = "xporter"
    secret_field = "school_secret"
    secret_required_message = "Enter the school secret Groupcall issued when the school authorised missync."

    establishment = forms.CharField(
        label="Establishment number",
        help_text="The school's DfE number: the LA code and establishment number, 7 digits, e.g. 2134567.",
        max_length=20,
        widget=_text_input(inputmode="numeric"),
        error_messages={"required": "Enter the school's establishment (DfE) number."},
    )
    app_id = forms.CharField(
        label="App id",
        help_text="missync's app id (relying party) in Xporter on Demand.",
        max_length=80,
        widget=_text_input(),
        error_messages={"required": "Enter missync's Xporter app id."},
    )
    school_secret = forms.CharField(
        label="School secret",
        help_text="Issued in the Groupcall portal when the school authorises missync. Stored encrypted.",
        max_length=500,
        widget=_secret_input(),
    )
    base_url = forms.CharField(
        label="Xporter API address (optional)",
        help_text=f"Only if Groupcall gave you another address than {xporter.XPORTER_API}.",
        required=False,
        max_length=300,
        widget=_text_input(inputmode="url"),
    )

    def clean_establishment(self) -> str:
        value = re.sub(r"[\s/-]", "", self.cleaned_data["establishment"])
        if not value.isdigit() or len(value) != 7:
            raise forms.ValidationError(
                "The establishment number is the school's DfE number: 7 digits (LA code and establishment), "
                "e.g. 2134567."
            )
        return value

    def clean_app_id(self) -> str:
        return _identifier(self.cleaned_data["app_id"], "The app id")

    def clean_base_url(self) -> str:
        value = self.cleaned_data.get("base_url", "").strip()
        return _address(value, "Xporter") if value else ""

    def settings(self) -> dict[str, str]:
        data = self.cleaned_data
        found = {"establishment": data["establishment"], "app_id": data["app_id"], "secret": self.secret()}
        if data["base_url"] and data["base_url"] != xporter.XPORTER_API:
            found["base_url"] = data["base_url"]  # the usual one keeps the usual login service too
        return found


class OneRosterApiForm(ProviderForm):
    provider = "oneroster-api"
    secret_field = "client_secret"
    secret_required_message = "Enter the OAuth2 client secret your OneRoster provider gave you."

    base_url = forms.CharField(
        label="Base URL",
        help_text="The OneRoster server's address, e.g. https://oneroster.example.com (missync adds "
        "/ims/oneroster/v1p1 when it is missing).",
        max_length=300,
        widget=_text_input(inputmode="url"),
        error_messages={"required": "Enter the OneRoster server's address."},
    )
    client_id = forms.CharField(
        label="Client id",
        help_text="The OAuth2 client id your OneRoster provider gave you.",
        max_length=200,
        widget=_text_input(),
        error_messages={"required": "Enter the OAuth2 client id."},
    )
    client_secret = forms.CharField(
        label="Client secret",
        help_text="Stored encrypted and never shown again.",
        max_length=500,
        widget=_secret_input(),
    )
    token_url = forms.CharField(
        label="Token URL (optional)",
        help_text="Where tokens are issued, when not at the server's /oauth/token.",
        required=False,
        max_length=300,
        widget=_text_input(inputmode="url"),
    )

    def clean_base_url(self) -> str:
        return _address(self.cleaned_data["base_url"], "the OneRoster API")

    def clean_client_id(self) -> str:
        value = self.cleaned_data["client_id"].strip()
        if any(character.isspace() for character in value):
            raise forms.ValidationError("A client id has no spaces: copy it again from your provider.")
        return value

    def clean_token_url(self) -> str:
        value = self.cleaned_data.get("token_url", "").strip()
        return _address(value, "the OneRoster API") if value else ""

    def settings(self) -> dict[str, str]:
        data = self.cleaned_data
        found = {"base_url": data["base_url"], "client_id": data["client_id"], "secret": self.secret()}
        if data["token_url"]:
            found["token_url"] = data["token_url"]
        return found


PROVIDER_FORMS: dict[str, type[ProviderForm]] = {
    form.provider: form for form in (WondeForm, XporterForm, OneRosterApiForm)
}
