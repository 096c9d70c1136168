"""Identity matching: which account is this MIS person, and which hand-made accounts might be them.

Order (DESIGN.md): stored link (source + provider id) -> UPI -> UPN -> former UPN -> MIS id -> (staff)
email, all compared case-insensitively. Only linked accounts are matched by identity; an account made by
hand has no MIS identity, so it can only be a *possible duplicate*, which the admin decides.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping

from .names import name_key, similar_names
from .roster import Person
from .snapshot import AccountValues


def _low(value: str | None) -> str:
    return value.strip().lower() if value else ""


class IdentityIndex:
    """Finds the linked account of a roster person in a few dictionary look-ups."""

    def __init__(self, accounts: Mapping[int, AccountValues]) -> None:
        self._link: dict[tuple[str, str], int] = {}
        self._upi: dict[str, int] = {}
        self._upn: dict[str, int] = {}
        self._former_upn: dict[str, int] = {}
        self._mis_id: dict[tuple[str, str], int] = {}
        self._email: dict[str, int] = {}
        for account_id, account in accounts.items():
            if not account.linked:
                continue
            self._link.setdefault((account.source, account.source_id), account_id)
            for index, value in (
                (self._upi, account.upi),
                (self._upn, account.upn),
                (self._former_upn, account.former_upn),
            ):
                if value:
                    index.setdefault(_low(value), account_id)
            if account.mis_id:
                self._mis_id.setdefault((account.role, _low(account.mis_id)), account_id)
            if account.role == "staff" and account.email:
                self._email.setdefault(_low(account.email), account_id)

    def by_link(self, source: str, key: str) -> int | None:
        return self._link.get((source, key))

    def find(self, person: Person, source: str) -> int | None:
        """The linked account for `person`, trying each identifier in the agreed order."""
        found = self._link.get((source, person.key))
        if found is not None:
            return found
        if person.upi and (found := self._upi.get(_low(person.upi))) is not None:
            return found
        if person.upn:
            upn = _low(person.upn)
            found = self._upn.get(upn)
            if found is None:
                found = self._former_upn.get(upn)  # the account knew this UPN as a former one
            if found is not None:
                return found
        if person.former_upn and (found := self._upn.get(_low(person.former_upn))) is not None:
            return found
        if person.mis_id and (found := self._mis_id.get((person.role, _low(person.mis_id)))) is not None:
            return found
        if person.role == "staff" and person.email:
            return self._email.get(_low(person.email))
        return None


def _surname_parts(surname: str) -> set[str]:
    parts = {name_key(part) for part in surname.replace("-", " ").split()}
    parts.add(name_key(surname))
    parts.discard("")
    return parts


class DuplicateFinder:
    """Hand-made (unlinked, active) accounts that may be the same person as an unmatched MIS record.

    Similar names (see `names.similar_names`, legal forename too), and the same date of birth and year
    group where both sides know them; for staff, the same email is enough on its own.
    """

    def __init__(self, accounts: Mapping[int, AccountValues]) -> None:
        self._accounts = accounts
        self._by_surname: dict[str, list[int]] = defaultdict(list)
        self._by_email: dict[str, int] = {}
        for account_id, account in accounts.items():
            if account.linked or account.status != "active":
                continue
            for part in _surname_parts(account.surname):
                self._by_surname[part].append(account_id)
            if account.email:
                self._by_email.setdefault(_low(account.email), account_id)

    def candidates(self, person: Person, year_group: str | None) -> list[int]:
        """Account ids that may be `person`, best first."""
        found: list[int] = []
        if not self._by_surname:  # no hand-made accounts at all: nothing to compare
            return found
        if person.role == "staff" and person.email:
            by_email = self._by_email.get(_low(person.email))
            if by_email is not None and self._accounts[by_email].role == "staff":
                found.append(by_email)
        seen = set(found)
        for part in _surname_parts(person.surname):
            for account_id in self._by_surname.get(part, ()):
                if account_id in seen:
                    continue
                seen.add(account_id)
                if self._could_be(person, year_group, account_id):
                    found.append(account_id)
        return found

    def _could_be(self, person: Person, year_group: str | None, account_id: int) -> bool:
        account = self._accounts[account_id]
        if account.role != person.role:
            return False
        if person.dob and account.dob and person.dob != account.dob:
            return False
        if year_group and account.year_group and year_group != account.year_group:
            return False
        forenames: Iterable[str] = {person.forename, person.legal_forename} - {""}
        return any(
            similar_names(forename, person.surname, account.forename, account.surname)
            for forename in forenames
        )
