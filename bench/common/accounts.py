"""The users a benchmark acts as: created in the database before the server starts, then logged in
over HTTP like any client (the token endpoint, so its cost is the real one)."""

from __future__ import annotations

import httpx

from app.config import Settings


def ensure_user(settings: Settings, username: str, password: str, role: str, full_name: str) -> None:
    """Create the user with that one role unless it exists."""
    from app.db import make_engine, make_sessionmaker
    from app.services import organisation as org
    from app.workflow.vocabulary import Role

    engine = make_engine(settings)
    try:
        with make_sessionmaker(engine)() as session:
            if org.get_user(session=session, username=username) is None:
                org.create_user(session=session, username=username, password=password, roles=[Role(role)],
                                full_name=full_name)
                session.commit()
    finally:
        engine.dispose()


def login(base_url: str, username: str, password: str) -> str:
    """A bearer token from the API."""
    response = httpx.post(f"{base_url}/api/v1/auth/token", data={"username": username, "password": password},
                          timeout=30)
    response.raise_for_status()
    return response.json()["access_token"]
