"""`marsad serve`: the web application and the REST API over the instance, with uvicorn."""

from __future__ import annotations

from typing import Annotated

import typer

from marsad.cli import instance
from marsad.cli.app import DbOption, JsonOption, app
from marsad.cli.output import emit_json, err
from marsad.model.errors import MarsadError


@app.command()
def serve(
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="TCP port.")] = 8000,
    max_upload_mb: Annotated[
        int, typer.Option("--max-upload-mb", help="Largest request body accepted, in MiB.")
    ] = 64,
    db: DbOption = None,
    json: JsonOption = False,
) -> None:
    """Serve the web application (sign in at /) and the REST API (bearer tokens; OpenAPI at /api/openapi.json)."""
    import uvicorn

    from marsad.exchange.app import create_app
    from marsad.exchange.auth import Settings

    if max_upload_mb < 1:
        raise MarsadError(f"--max-upload-mb must be at least 1, got {max_upload_mb}")
    url = instance.configured_url(db)
    store = instance.open_store(url)
    application = create_app(store, Settings(max_body_bytes=max_upload_mb * 1024 * 1024))
    base = f"http://{host}:{port}"
    if json:
        emit_json({"url": base, "web": f"{base}/", "openapi": f"{base}/api/openapi.json",
                   "database": instance.display_url(url)})  # fmt: skip
    else:
        err.print(f"Marsad on {base}/ (web application), API on {base}/api/v1 (OpenAPI: {base}/api/openapi.json), "
                  f"database {instance.display_url(url)}; Ctrl-C stops it.")  # fmt: skip
    try:
        uvicorn.run(application, host=host, port=port, log_level="warning", access_log=False)
    finally:
        store.close()
