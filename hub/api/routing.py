"""Declared API routes: each names its body and response models and its query parameters once, for parsing,
validation and /api/openapi.json."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from inspect import signature
from typing import TYPE_CHECKING, Any, Literal, cast, get_type_hints

from pydantic import BaseModel, ValidationError
from pydantic_core import to_jsonable_python
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from hub import sheets
from hub.auth import InvalidToken, Principal, read_token
from hub.errors import Forbidden, HubError, Unauthorized, Unprocessable
from hub.limits import parse_json, read_body
from schemas.rest import ErrorResponse

if TYPE_CHECKING:  # the runtime is built from the domain modules; the API layer only reads it
    from hub.runtime import Runtime

Endpoint = Callable[[Request], Awaitable[Response]]
# A route's handler: (request) -> response, or (request, body) -> response when the route declares a
# `request` model; the body comes parsed into that model.
Handler = Callable[..., Awaitable[Response]]
QueryKind = Literal["string", "integer", "boolean", "time"]  # time: ISO 8601 with its zone


@dataclass(frozen=True)
class QueryParam:
    """A query-string parameter a route reads: documented from here, and read only through the query_*
    functions below, which refuse a name the route does not declare."""

    name: str
    kind: QueryKind
    description: str
    enum: tuple[str, ...] = ()  # any other value is refused: 422 invalid_query
    default: int | str | None = None

    def __post_init__(self) -> None:
        # An integer parameter has a default, a string one may have one, a boolean or a time has none.
        allowed = {"integer": (int,), "string": (str, type(None))}.get(self.kind, (type(None),))
        if not isinstance(self.default, allowed):
            raise TypeError(f"the {self.kind} query parameter {self.name!r} cannot default to {self.default!r}")

    def schema(self) -> dict[str, Any]:
        schema: dict[str, Any] = (
            {"type": "string", "format": "date-time"} if self.kind == "time" else {"type": self.kind}
        )
        if self.enum:
            schema["enum"] = list(self.enum)
        if self.default is not None:
            schema["default"] = self.default
        return schema


# An export's own parameters (hub.sheets); its filters are the list's.
SHEET_QUERY = (
    QueryParam("format", "string", "xlsx or csv", enum=sheets.FORMATS, default="xlsx"),
    QueryParam("lang", "string", "The language of the words in the sheet", enum=("vi", "en"), default="vi"),
)


@dataclass(frozen=True)
class ApiRoute:
    method: str
    path: str
    handler: Handler
    summary: str
    request: type[BaseModel] | None = None  # the JSON body: parsed and validated before the handler runs
    response: type[BaseModel] | None = None
    status: int = 200
    public: bool = False  # no bearer token needed
    errors: tuple[int, ...] = field(default=(400, 401, 403, 404, 409, 422))
    query: tuple[QueryParam, ...] = ()  # what the handler reads from the query string (query_* below)
    # Publishes events: journaled and re-done until its events are durable (hub.inbox). A caller may
    # send `Idempotency-Key` to make its own retry finish the same change.
    publishes: bool = False

    def __post_init__(self) -> None:
        # The handler's body parameter, if any, is of the declared model: the declaration cannot drift.
        hints = get_type_hints(self.handler)
        taken = [hints.get(name) for name in list(signature(self.handler).parameters)[1:]]
        if taken != ([self.request] if self.request else []):
            declared = self.request.__name__ if self.request else None
            raise TypeError(
                f"{self.name}: {self.handler.__qualname__} takes a body of {taken}, "
                f"the route declares request={declared}"
            )

    @property
    def name(self) -> str:
        return f"{self.method} {self.path}"

    @property
    def path_params(self) -> list[str]:
        return re.findall(r"\{(\w+)\}", self.path)

    @cached_property
    def endpoint(self) -> Endpoint:
        """What serves the route, and what the request journal re-does (hub.inbox) from the stored body:
        the body parsed into the declared model, then the handler."""

        async def endpoint(request: Request) -> Response:
            request.scope["hub.route"] = self  # what query_* check a name against
            if self.request is None:
                return await self.handler(request)
            return await self.handler(request, await _body(request, self.request))

        return endpoint


def runtime(request: Request) -> Runtime:
    """The hub's services for this process, as the app's lifespan opened them (hub.app)."""
    return request.app.state.hub


def error_response(exc: HubError) -> JSONResponse:
    return JSONResponse({"error": {"code": exc.code, "message": exc.message, **exc.details}}, status_code=exc.status)


async def _body(request: Request, model: type[BaseModel]) -> BaseModel:
    """A JSON body parsed into `model`: too large 413, malformed JSON 400, a wrong shape 422."""
    raw = await read_body(request, runtime(request).settings.max_body_bytes)
    data = parse_json(raw or b"null")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "body"
        raise Unprocessable(f"{where}: {first['msg']}", "invalid_body") from None


def principal(request: Request) -> Principal:
    """The member the request speaks for, as `authenticated` checked it (or, for a journaled request
    the hub re-does itself, the member it was made for): a scope key no network request can set."""
    actor = request.scope.get("hub.principal")
    if actor is None:
        raise Unauthorized("send Authorization: Bearer <token>", "missing_token")
    return actor


def _token_principal(request: Request) -> Principal:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise Unauthorized("send Authorization: Bearer <token>", "missing_token")
    try:
        actor = read_token(runtime(request).jwt_secret, token.strip())
    except InvalidToken as exc:
        raise Unauthorized(str(exc), "invalid_token") from None
    if actor.kind != "member":
        raise Forbidden("a wallboard token opens the wallboard only", "wallboard_token")
    return actor


def authenticated(endpoint: Endpoint) -> Endpoint:
    """Every request with a token: the token is valid and its member is still a member of that company,
    with the role it has now (a removed member's token opens nothing, a role change applies at once)."""

    async def checked(request: Request) -> Response:
        if "hub.principal" not in request.scope:
            actor = _token_principal(request)
            request.scope["hub.principal"] = await runtime(request).directory.current(actor)
        return await endpoint(request)

    return checked


def _query(request: Request, name: str, kind: QueryKind) -> tuple[QueryParam, str | None]:
    """A query parameter the serving route declares with this kind, and its raw value (a handler reading
    anything else is a bug: the parameter would be missing from /api/openapi.json)."""
    route: ApiRoute = request.scope["hub.route"]
    param = next((p for p in route.query if p.name == name), None)
    if param is None or param.kind != kind:
        raise LookupError(
            f"{route.name} reads the query parameter {name!r} as {kind}; the route declares "
            f"{param.kind if param else 'no such parameter'}"
        )
    value = request.query_params.get(name)
    if value and param.enum and value not in param.enum:  # empty: no filter, as handlers read it
        raise Unprocessable(f"{name} is one of {', '.join(param.enum)}", "invalid_query")
    return param, value


def query_text(request: Request, name: str) -> str | None:
    """The value, or the parameter's declared default when absent."""
    param, value = _query(request, name, "string")
    return value if value is not None else cast("str | None", param.default)


def query_int(request: Request, name: str) -> int:
    """A whole number, or the parameter's declared default when absent."""
    param, value = _query(request, name, "integer")
    if value is None:
        return cast(int, param.default)  # QueryParam makes sure an integer parameter has one
    try:
        return int(value)
    except ValueError:
        raise Unprocessable(f"{name} must be a whole number", "invalid_query") from None


def query_bool(request: Request, name: str) -> bool | None:
    value = _query(request, name, "boolean")[1]
    if value is None:
        return None
    if value.lower() in ("true", "1", "yes"):
        return True
    if value.lower() in ("false", "0", "no"):
        return False
    raise Unprocessable(f"{name} must be true or false", "invalid_query")


def query_time(request: Request, name: str) -> datetime | None:
    """An ISO 8601 time with its zone (Z or +07:00) from the query string."""
    value = _query(request, name, "time")[1]
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00").replace(" ", "+"))
    except ValueError:
        raise Unprocessable(f"{name} must be an ISO 8601 time", "invalid_query") from None
    if parsed.tzinfo is None:
        raise Unprocessable(f"{name} needs a time zone (Z or +07:00)", "invalid_query")
    return parsed


def reply(model: BaseModel | dict[str, Any], status: int = 200) -> JSONResponse:
    content = model.model_dump(mode="json") if isinstance(model, BaseModel) else to_jsonable_python(model)
    return JSONResponse(content, status_code=status)


def journaled(route: ApiRoute) -> Endpoint:
    """The route's endpoint behind the request journal (hub.inbox.Inbox.receive_request)."""

    async def endpoint(request: Request) -> Response:
        actor = principal(request)  # refused before anything is stored
        raw = await read_body(request, runtime(request).settings.max_body_bytes)
        return await runtime(request).inbox.receive_request(request, route.name, route.endpoint, actor, raw)

    return endpoint


def starlette_routes(routes: list[ApiRoute]) -> list[Route]:
    def endpoint(r: ApiRoute) -> Endpoint:
        inner = journaled(r) if r.publishes else r.endpoint
        return inner if r.public else authenticated(inner)

    return [Route(r.path, endpoint(r), methods=[r.method], name=r.name) for r in routes]


def _schema_ref(model: type[BaseModel], components: dict[str, Any]) -> dict[str, str]:
    schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
    for name, sub in schema.pop("$defs", {}).items():
        components[name] = sub
    components[model.__name__] = schema
    return {"$ref": f"#/components/schemas/{model.__name__}"}


def openapi(routes: list[ApiRoute], title: str, version: str) -> dict[str, Any]:
    components: dict[str, Any] = {}
    paths: dict[str, Any] = {}
    error_ref = _schema_ref(ErrorResponse, components)
    for r in routes:
        op: dict[str, Any] = {"summary": r.summary, "responses": {}}
        parameters = [
            {"name": name, "in": "path", "required": True, "schema": {"type": "string"}} for name in r.path_params
        ]
        parameters += [
            {"name": q.name, "in": "query", "required": False, "description": q.description, "schema": q.schema()}
            for q in r.query
        ]
        if parameters:
            op["parameters"] = parameters
        if not r.public:
            op["security"] = [{"bearer": []}]
        if r.request is not None:
            op["requestBody"] = {
                "required": True,
                "content": {"application/json": {"schema": _schema_ref(r.request, components)}},
            }
        ok: dict[str, Any] = {"description": "OK"}
        if r.response is not None:
            ok["content"] = {"application/json": {"schema": _schema_ref(r.response, components)}}
        op["responses"][str(r.status)] = ok
        for status in r.errors:
            op["responses"][str(status)] = {
                "description": "error",
                "content": {"application/json": {"schema": error_ref}},
            }
        paths.setdefault(r.path, {})[r.method.lower()] = op
    return {
        "openapi": "3.1.0",
        "info": {"title": title, "version": version},
        "paths": paths,
        "components": {
            "schemas": components,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}},
        },
    }
