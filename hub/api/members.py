"""Members, their extensions, and departments."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from hub import rulebook
from hub.api.routing import ApiRoute, principal, reply, runtime
from schemas.directory import Department, Member
from schemas.rest import (
    DepartmentCreate,
    DepartmentList,
    DepartmentUpdate,
    ExtensionAssign,
    MemberCreate,
    MemberCreated,
    MemberList,
    MemberUpdate,
)


async def list_members(request: Request) -> Response:
    members = await runtime(request).directory.list_members(principal(request))
    return reply(MemberList(members=members))


async def presence(request: Request) -> Response:
    """Who is online now and how (the start point that `presence.updated` events then keep current)."""
    actor = principal(request)
    rulebook.require(actor, rulebook.Action.member_list)
    online = await runtime(request).presence.members(actor.company_id)
    return reply({"members": {member_id: status.value for member_id, status in online.items()}})


async def create_member(request: Request, new: MemberCreate) -> Response:
    member, password = await runtime(request).directory.create_member(principal(request), new)
    return reply(MemberCreated(member=member, password=password), status=201)


async def update_member(request: Request, change: MemberUpdate) -> Response:
    member = await runtime(request).directory.update_member(
        principal(request), request.path_params["member_id"], change
    )
    return reply(member)


async def remove_member(request: Request) -> Response:
    await runtime(request).directory.remove_member(principal(request), request.path_params["member_id"])
    return Response(status_code=204)


async def set_extension(request: Request, assign: ExtensionAssign) -> Response:
    member = await runtime(request).directory.set_extension(
        principal(request), request.path_params["member_id"], assign.extension
    )
    return reply(member)


async def clear_extension(request: Request) -> Response:
    member = await runtime(request).directory.clear_extension(principal(request), request.path_params["member_id"])
    return reply(member)


async def list_departments(request: Request) -> Response:
    departments = await runtime(request).directory.list_departments(principal(request))
    return reply(DepartmentList(departments=departments))


async def create_department(request: Request, new: DepartmentCreate) -> Response:
    return reply(await runtime(request).directory.create_department(principal(request), new), status=201)


async def update_department(request: Request, change: DepartmentUpdate) -> Response:
    department = await runtime(request).directory.update_department(
        principal(request), request.path_params["department_id"], change
    )
    return reply(department)


async def remove_department(request: Request) -> Response:
    await runtime(request).directory.remove_department(principal(request), request.path_params["department_id"])
    return Response(status_code=204)


ROUTES = [
    ApiRoute(
        "GET", "/api/members", list_members, "List the company's members (owners and managers)", response=MemberList
    ),
    ApiRoute(
        "GET",
        "/api/presence",
        presence,
        "Members online now: {member_id: available | away} (owners and managers; absent means offline)",
    ),
    ApiRoute(
        "POST",
        "/api/members",
        create_member,
        "Create a member (owners: managers and users; managers: users)",
        request=MemberCreate,
        response=MemberCreated,
        status=201,
        publishes=True,
    ),
    ApiRoute(
        "PATCH",
        "/api/members/{member_id}",
        update_member,
        "Rename a member, move them to a department, or change their role (owners: managers and users, never "
        "their own role; managers: users' name and department)",
        request=MemberUpdate,
        response=Member,
        publishes=True,
    ),
    ApiRoute(
        "DELETE",
        "/api/members/{member_id}",
        remove_member,
        "Remove a member (409 while they hold an extension)",
        status=204,
        publishes=True,
    ),
    ApiRoute(
        "PUT",
        "/api/members/{member_id}/extension",
        set_extension,
        "Give a member an extension",
        request=ExtensionAssign,
        response=Member,
        publishes=True,
    ),
    ApiRoute(
        "DELETE",
        "/api/members/{member_id}/extension",
        clear_extension,
        "Take a member's extension away",
        response=Member,
        publishes=True,
    ),
    ApiRoute(
        "GET",
        "/api/departments",
        list_departments,
        "List departments with their member counts",
        response=DepartmentList,
    ),
    ApiRoute(
        "POST",
        "/api/departments",
        create_department,
        "Create a department (owners, managers)",
        request=DepartmentCreate,
        response=Department,
        status=201,
        publishes=True,
    ),
    ApiRoute(
        "PATCH",
        "/api/departments/{department_id}",
        update_department,
        "Rename a department or change its job description (owners, managers)",
        request=DepartmentUpdate,
        response=Department,
        publishes=True,
    ),
    ApiRoute(
        "DELETE",
        "/api/departments/{department_id}",
        remove_department,
        "Delete an empty department (409 department_not_empty while members remain)",
        status=204,
        publishes=True,
    ),
]
