"""The rulebook: who may do what, and who receives what (DESIGN section 6). Nowhere else names a role.

Plain functions over plain data, tested as tables in tests/test_rulebook.py:
- `ALLOWED`: action -> the roles that may take it; `may(role, action)` and `require(actor, action)`.
- Rules between two members (who creates, removes or sets the extension of whom) and between a
  member and a thread (who sees it, who moves it).
- Named audiences (`RECEIVERS`): the roles that receive a kind of event, and the `Audience` builders
  the domain publishes with, including what an event does to its receivers' connections.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from hub.auth import Principal
from hub.errors import Forbidden
from schemas.directory import Role
from schemas.events import Audience, wallboard_key

OWNER = frozenset({Role.owner})
SUPERVISING = frozenset({Role.owner, Role.manager})
EVERYONE = frozenset(Role)


class Action(StrEnum):
    company_settings = "change the company's settings"
    member_list = "see the member list and who is online"
    departments = "manage departments"
    oa_links_manage = "manage OA links"
    oa_links_view = "see OA links"
    labels_manage = "create or delete labels"
    telephony = "manage hotlines and extensions"
    pbx_secret = "create or rotate the PBX secret"
    wallboards = "issue, list and revoke wallboard tokens"
    zns = "use ZNS"
    all_consents = "see every consent request"
    bulk_consents = "ask customers for call consent (ZCC), one by one or in bulk"
    all_threads = "see every thread"
    queue_thread = "put a thread back in the queue"
    assign_any_thread = "assign any thread"
    all_calls = "see every call and extension"
    assign_missed_calls = "assign a missed call to a member"
    audit = "read the audit log"
    dashboard = "see the dashboard's call and chat figures"
    followers = "see the OAs' followers and sync them from Zalo"
    all_jobs = "see and cancel every import, bulk send and sync of the company"
    contacts_view = "see, add and edit contacts"
    contacts_delete = "delete contacts"


ALLOWED: dict[Action, frozenset[Role]] = {
    Action.company_settings: OWNER,
    Action.member_list: SUPERVISING,
    Action.departments: SUPERVISING,  # the product guide: "a Company Owner or Manager"
    Action.oa_links_manage: OWNER,
    Action.oa_links_view: SUPERVISING,
    Action.labels_manage: SUPERVISING,
    Action.telephony: SUPERVISING,
    Action.pbx_secret: OWNER,
    Action.wallboards: SUPERVISING,
    Action.zns: SUPERVISING,
    Action.all_consents: SUPERVISING,
    Action.bulk_consents: EVERYONE,  # the product guide: any member sends call requests
    Action.all_threads: OWNER,
    Action.queue_thread: OWNER,
    Action.assign_any_thread: OWNER,
    Action.all_calls: SUPERVISING,
    Action.assign_missed_calls: SUPERVISING,
    Action.audit: OWNER,
    Action.dashboard: SUPERVISING,  # the product guide: managers "view dashboard"; figures, no chat content
    Action.followers: SUPERVISING,
    Action.all_jobs: SUPERVISING,  # a user sees the jobs they started
    Action.contacts_view: EVERYONE,  # the product guide: users see and add contacts
    Action.contacts_delete: SUPERVISING,
}

_WHO = {OWNER: "the owner", SUPERVISING: "owners and managers"}


def may(role: Role, action: Action) -> bool:
    return role in ALLOWED[action]


def require(actor: Principal, action: Action) -> None:
    """Refuse (403 forbidden) unless the actor's role may take the action, saying who may."""
    if not may(actor.role, action):
        who = _WHO.get(ALLOWED[action], ", ".join(sorted(r.value for r in ALLOWED[action])))
        raise Forbidden(f"only {who} may {action.value}")


# -- between members ------------------------------------------------------------------------------

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


def can_change_member(
    actor: Role, actor_id: str, target: Role, target_id: str, new_role: Role | None, other_fields: bool
) -> bool:
    """PATCH /api/members/{id}. A role change (a `new_role` other than the target's): only owners, to
    manager or user, never of the owner and never of themselves. Name and department: owners of anyone,
    managers of users only, users of nobody."""
    if new_role is not None and new_role is not target:
        if actor_id == target_id or actor is not Role.owner:
            return False
        if target not in _CREATES[actor] or new_role not in _CREATES[actor]:
            return False
    if other_fields:
        if actor is Role.owner:
            return True
        return actor is Role.manager and target is Role.user
    return True


def require_change_member(
    actor: Principal, target: Role, target_id: str, new_role: Role | None, other_fields: bool
) -> None:
    if not can_change_member(actor.role, actor.member_id, target, target_id, new_role, other_fields):
        if new_role is not None and new_role is not target:
            raise Forbidden(f"a {actor.role.value} cannot make this {target.value} a {new_role.value}")
        raise Forbidden(f"a {actor.role.value} cannot change this {target.value}")


def require_create_member(actor: Principal, new_role: Role) -> None:
    if not can_create_member(actor.role, new_role):
        raise Forbidden(f"a {actor.role.value} cannot create a {new_role.value}")


def require_remove_member(actor: Principal, target: Role, target_id: str) -> None:
    if not can_remove_member(actor.role, actor.member_id, target, target_id):
        raise Forbidden(f"a {actor.role.value} cannot remove this {target.value}")


def require_set_extension(actor: Principal, target: Role, target_id: str) -> None:
    if not can_set_extension(actor.role, actor.member_id, target, target_id):
        raise Forbidden(f"a {actor.role.value} cannot change this {target.value}'s extension")


# -- threads ---------------------------------------------------------------------------------------


def may_see_thread(actor: Principal, thread: dict[str, Any]) -> bool:
    """The owner sees every thread; anyone else the threads assigned to them."""
    return may(actor.role, Action.all_threads) or thread.get("assignee_id") == actor.member_id


def may_assign_thread(actor: Principal, thread: dict[str, Any]) -> bool:
    """The owner assigns any thread; a manager the threads assigned to them; a user none."""
    if may(actor.role, Action.assign_any_thread):
        return True
    return actor.role is Role.manager and thread.get("assignee_id") == actor.member_id


def require_assign_thread(actor: Principal, thread: dict[str, Any]) -> None:
    if not may_assign_thread(actor, thread):
        raise Forbidden("only the owner, or a manager for their own threads, assigns threads")


# -- missed calls ------------------------------------------------------------------------------------


def may_handle_missed_call(actor: Principal, missed: dict[str, Any]) -> bool:
    """Who sees a missed call's follow-up and marks it handled: owners and managers, the member it is
    assigned to, a member it rang. Assigning it is Action.assign_missed_calls."""
    return (
        may(actor.role, Action.all_calls)
        or missed.get("assignee_id") == actor.member_id
        or actor.member_id in (missed.get("members") or [])
    )


def keeps_thread_after_move(role: Role) -> bool:
    """Whether a member still sees a thread moved away from them (else they are told thread.removed)."""
    return may(role, Action.all_threads)


# -- who receives what -----------------------------------------------------------------------------


class Receivers(StrEnum):
    thread_overseers = "thread_overseers"  # every thread and message event
    supervisors = "supervisors"  # directory, calls, consents, ZNS, wallboard tokens; presence signals
    everyone = "everyone"  # labels (every member applies them), departments, the company
    oa_link_viewers = "oa_link_viewers"  # OA links: those who may see them


RECEIVERS: dict[Receivers, frozenset[Role]] = {
    Receivers.thread_overseers: ALLOWED[Action.all_threads],
    Receivers.supervisors: SUPERVISING,
    Receivers.everyone: EVERYONE,
    Receivers.oa_link_viewers: ALLOWED[Action.oa_links_view],
}


def receives(role: Role, receivers: Receivers) -> bool:
    return role in RECEIVERS[receivers]


def _roles(receivers: Receivers) -> list[Role]:
    return sorted(RECEIVERS[receivers], key=list(Role).index)


def thread_audience(thread: dict[str, Any], *also: str | None) -> Audience:
    """Every thread and message event: the owners, the thread's assignee, and any other members named
    (e.g. a previous assignee, who must see the thread leave)."""
    members = [m for m in dict.fromkeys([thread.get("assignee_id"), *also]) if m]
    return Audience(members=members, roles=_roles(Receivers.thread_overseers), thread_id=thread["_id"])


def thread_given(thread: dict[str, Any], from_member: str | None, to_member: str | None) -> Audience:
    """thread.assigned: as any thread event (the previous assignee too); the new assignee receives the
    thread's events again if an earlier move had taken it from them."""
    audience = thread_audience(thread, from_member)
    audience.restores = [to_member] if to_member else []
    return audience


def thread_taken(thread_id: str, from_member: str) -> Audience:
    """thread.removed: to the member who lost the thread, after which nothing more of it reaches them."""
    return Audience(members=[from_member], thread_id=thread_id, revokes=[from_member])


def supervisors(members: list[str] | None = None, wallboards: bool = False) -> Audience:
    """Owners and managers, and any members named (the members a call rang, a consent's requester)."""
    return Audience(members=members or [], roles=_roles(Receivers.supervisors), wallboards=wallboards)


def missed_call_audience(rang: list[str], assignee_id: str | None, *also: str | None) -> Audience:
    """missed_call.updated: as call.missed (owners, managers, the members it rang), its assignee, and any
    other member named (the previous assignee, who must see it leave)."""
    return supervisors([m for m in dict.fromkeys([*rang, assignee_id, *also]) if m])


def oa_link_viewers() -> Audience:
    """oa_link.*: whoever may see the company's OA links."""
    return Audience(roles=_roles(Receivers.oa_link_viewers))


def only(member_id: str) -> Audience:
    """One member (what only they are told, e.g. the state of the extension they were just given)."""
    return Audience(members=[member_id])


def everyone() -> Audience:
    return Audience(roles=_roles(Receivers.everyone))


def wall_displays() -> Audience:
    """The masked views published for wallboard displays only."""
    return Audience(wallboards=True)


def member_gone(member_id: str) -> Audience:
    """member.removed: to the supervisors; the removed member's consoles are closed."""
    audience = supervisors()
    audience.disconnects = [member_id]
    return audience


def sessions_closed(member_id: str) -> Audience:
    """session.revoked: to the member whose account's tokens were revoked (a password change); every
    console of theirs is closed and refused until it connects with a token issued since."""
    return Audience(members=[member_id], disconnects=[member_id])


def wallboard_managers() -> Audience:
    """wallboard.issued: those who issue, list and revoke wallboard tokens."""
    return Audience(roles=sorted(ALLOWED[Action.wallboards], key=list(Role).index))


def wallboard_revoked(token_id: str) -> Audience:
    """wallboard.revoked: to the supervisors; the displays using the token are closed."""
    audience = supervisors()
    audience.disconnects = [wallboard_key(token_id)]
    return audience


def follower_watchers() -> Audience:
    """follower.updated: whoever may see the followers list."""
    return Audience(roles=sorted(ALLOWED[Action.followers], key=list(Role).index))
