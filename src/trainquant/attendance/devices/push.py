"""The ZKTeco PUSH ("iclock") server: terminals post their punches here over plain HTTP.

Terminals identify only by serial number, so only serials on the Device allow-list (and active) are
served. Answers are text/plain; what each request does is in ``devices.service``. Bodies are read
on the event loop, the database work runs in the threadpool (an upload's on a bulk thread, see
``trainquant.bulk``): on SQLite a statement may wait for the write lock, and another terminal's
request holding it needs the loop to finish.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import PlainTextResponse
from starlette.concurrency import run_in_threadpool

from trainquant import bulk
from trainquant.attendance.devices import service
from trainquant.deps import AppClock, AppSettings, read_body_limited

router = APIRouter(prefix="/iclock", tags=["zkteco"])
MAX_BODY = 8 * 1024 * 1024
Serial = Annotated[str, Query(alias="SN", min_length=1, max_length=80)]
# The protocol's own answers are text; a terminal not on the allow-list gets 403 in the same form.
TEXT = {"text/plain": {"schema": {"type": "string"}}}
PROTOCOL: dict[int | str, dict[str, Any]] = {
    200: {"content": TEXT},
    403: {"description": "the serial number is not on the allow-list, or the device is inactive", "content": TEXT},
    503: {"description": "the database stayed busy past the busy timeout; the terminal asks again"},
}
UPLOAD: dict[int | str, dict[str, Any]] = {**PROTOCOL, 413: {"description": "the upload is larger than the protocol allows"}}


def _text(reply: service.Reply) -> PlainTextResponse:
    return PlainTextResponse(reply.text, status_code=reply.status)


def _client(request: Request) -> str:
    return request.client.host if request.client else "?"


@router.get("/cdata", response_class=PlainTextResponse, responses=PROTOCOL, summary="ZKTeco handshake: the options the terminal should use")
def handshake(request: Request, clock: AppClock, settings: AppSettings, sn: Serial):
    return _text(service.handshake(request.app.state.sessionmaker, sn, now=clock.now(), settings=settings, client=_client(request)))


@router.post("/cdata", response_class=PlainTextResponse, responses=UPLOAD, openapi_extra={"requestBody": {"content": TEXT}}, summary="ZKTeco upload: ATTLOG punches, OPERLOG and other tables")
async def upload(request: Request, clock: AppClock, settings: AppSettings, sn: Serial,
                 table: Annotated[str, Query(max_length=40)] = "ATTLOG",
                 stamp: Annotated[str | None, Query(alias="Stamp", max_length=32)] = None,
                 op_stamp: Annotated[str | None, Query(alias="OpStamp", max_length=32)] = None):
    body = await read_body_limited(request, MAX_BODY, what="upload")
    reply = await bulk.run(
        settings.bulk_nice, service.upload, request.app.state.sessionmaker, sn, table.upper(), body, stamp=stamp, op_stamp=op_stamp,
        now=clock.now(), settings=settings, client=_client(request),
    )
    return _text(reply)


@router.get("/getrequest", response_class=PlainTextResponse, responses=PROTOCOL, summary="ZKTeco poll: queued commands for the terminal")
def get_request(request: Request, clock: AppClock, sn: Serial):
    return _text(service.poll(request.app.state.sessionmaker, sn, now=clock.now(), client=_client(request)))


@router.post("/devicecmd", response_class=PlainTextResponse, responses=UPLOAD, openapi_extra={"requestBody": {"content": TEXT}}, summary="ZKTeco: the terminal reports what its commands returned")
async def device_cmd(request: Request, clock: AppClock, sn: Serial):
    body = await read_body_limited(request, MAX_BODY, what="upload")
    return _text(await run_in_threadpool(service.command_returns, request.app.state.sessionmaker, sn, body, now=clock.now(), client=_client(request)))
