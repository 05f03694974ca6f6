"""Who may do what in the directory (DESIGN section 6): plain functions over roles."""
from __future__ import annotations

from schemas.directory import Role

# Which roles each role may create: owners create managers and users, managers only users.
_CREATES: dict[Role, frozenset[Role]] = {
    Role.owner: frozenset({Role.manager, Role.user}),
    Role.manager: frozenset({Role.user}),
    Role.user: frozenset(),
}


def can_create_member(actor: Role, new_role: Role) -> bool:
    return new_role in _CREATES[actor]


def can_remove_member(actor: Role, actor_id: str, target: Role, target_id: str) -> bool:
    """Owners remove managers and users; managers remove users only; nobody removes themselves."""
    if actor_id == target_id:
        return False
    return target in _CREATES[actor]


def can_set_extension(actor: Role, actor_id: str, target: Role, target_id: str) -> bool:
    """Owners set anyone's extension; managers their own and their users'."""
    if actor is Role.owner:
        return True
    if actor is Role.manager:
        return target is Role.user or actor_id == target_id
    return False


def can_list_members(actor: Role) -> bool:
    return actor in (Role.owner, Role.manager)


def can_manage_departments(actor: Role) -> bool:
    """Owners and managers (the product guide: "an account registered as a Company Owner or Manager")."""
    return actor in (Role.owner, Role.manager)


# Directory changes (member.*) go to owners and managers.
DIRECTORY_EVENT_ROLES: tuple[Role, ...] = (Role.owner, Role.manager)

# The company itself (company.updated) goes to every member: each reads it (GET /api/company), and every
# console shows its name and its times in its time zone.
COMPANY_EVENT_ROLES: tuple[Role, ...] = (Role.owner, Role.manager, Role.user)
