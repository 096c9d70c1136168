"""Text builders for the OneRoster sets the source tests write (made-up people only)."""

from __future__ import annotations

from pathlib import Path

SHARED_DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"

USERS_11 = (
    "sourcedId,status,dateLastModified,enabledUser,orgSourcedIds,role,username,userIds,givenName,"
    "familyName,middleName,identifier,email,sms,phone,agentSourcedIds,grades,password"
)
USERS_12 = (
    "sourcedId,status,dateLastModified,enabledUser,username,userIds,givenName,familyName,middleName,"
    "identifier,email,sms,phone,agentSourcedIds,grades,password,userMasterIdentifier,preferredGivenName,"
    "preferredMiddleName,preferredFamilyName,primaryOrgSourcedId,pronouns"
)
CLASSES = (
    "sourcedId,status,dateLastModified,title,grades,courseSourcedId,classCode,classType,location,"
    "schoolSourcedId,termSourcedIds,subjects,subjectCodes,periods"
)
ENROLLMENTS = (
    "sourcedId,status,dateLastModified,classSourcedId,schoolSourcedId,userSourcedId,role,primary,"
    "beginDate,endDate"
)
ROLES = (
    "sourcedId,status,dateLastModified,userSourcedId,roleType,role,beginDate,endDate,orgSourcedId,"
    "userProfileSourcedId"
)


def manifest(version: str = "1.1", mode: str = "bulk", **modes: str) -> str:
    """A manifest.csv giving every file the same mode unless named in `modes`."""
    lines = ["propertyName,value", "manifest.version,1.0", f"oneroster.version,{version}"]
    for name in ("users", "classes", "enrollments", "orgs", "roles", "demographics"):
        lines.append(f"file.{name},{modes.get(name, mode)}")
    return "\n".join(lines) + "\n"


def user_11(key: str, role: str, given: str, family: str, **extra: str) -> str:
    """One 1.1 users.csv row; `extra` fills other columns by name."""
    values = dict.fromkeys(USERS_11.split(","), "")
    values.update(sourcedId=key, role=role, givenName=given, familyName=family, **extra)
    return ",".join(f'"{value}"' if "," in value else value for value in values.values())


def user_12(key: str, given: str, family: str, **extra: str) -> str:
    """One 1.2 users.csv row."""
    values = dict.fromkeys(USERS_12.split(","), "")
    values.update(sourcedId=key, givenName=given, familyName=family, **extra)
    return ",".join(f'"{value}"' if "," in value else value for value in values.values())


def klass(key: str, title: str, class_type: str, status: str = "") -> str:
    """One classes.csv row."""
    return f"{key},{status},,{title},,,,{class_type},,org1,,,,"


def enrol(key: str, class_key: str, user: str, role: str = "student", status: str = "") -> str:
    """One enrollments.csv row."""
    return f"{key},{status},,{class_key},org1,{user},{role},,,"


def role_row(key: str, user: str, role: str, role_type: str = "primary") -> str:
    """One roles.csv row."""
    return f"{key},,,{user},{role_type},{role},,,org1,"


def table(header: str, *rows: str) -> str:
    """A CSV file's text: header and rows, each line ending in a newline."""
    return "\n".join([header, *rows]) + "\n"
