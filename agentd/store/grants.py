"""Grants: "always allow <tool> for <caller executable>", stored, listed, revoked.

A grant is created only by the user answering "always" to a confirmation. It lets an
``external`` step run without asking, for that tool and that caller only, and never
once the task holds untrusted content (taint).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from agentd.errors import InvalidRequest, NotFound
from agentd.store.database import Database
from agentd.tools.registry import ToolRegistry

MAX_EXE = 4096


@dataclass(frozen=True)
class Grant:
    tool: str
    caller_exe: str
    created: float

    def to_json(self) -> dict[str, object]:
        return {"tool": self.tool, "caller_exe": self.caller_exe, "created": self.created}


SCHEMA = """
CREATE TABLE IF NOT EXISTS grants (
    tool TEXT NOT NULL,
    caller_exe TEXT NOT NULL,
    created REAL NOT NULL,
    PRIMARY KEY (tool, caller_exe)
);
"""

class GrantStore:
    def __init__(self, db: Database, registry: ToolRegistry) -> None:
        self._journal = db
        db.ensure(SCHEMA)
        self._registry = registry
        self._cache: set[tuple[str, str]] = {
            (g.tool, g.caller_exe) for g in self.list()}

    def allows(self, tool: str, caller_exe: str) -> bool:
        return bool(caller_exe) and (tool, caller_exe) in self._cache

    def add(self, tool: str, caller_exe: str) -> Grant:
        self._registry.spec(tool)  # NotFound for a tool that does not exist
        if not caller_exe or len(caller_exe) > MAX_EXE:
            raise InvalidRequest("a grant needs the caller's executable, and agentd could not "
                                 "tell which program asked")
        grant = Grant(tool, caller_exe, time.time())
        with self._journal.write() as db:
            db.execute("INSERT OR REPLACE INTO grants (tool, caller_exe, created) "
                       "VALUES (?,?,?)", (tool, caller_exe, grant.created))
        self._cache.add((tool, caller_exe))
        return grant

    def revoke(self, tool: str, caller_exe: str = "") -> int:
        """Remove the grants for ``tool`` (of one caller, or of all when caller is "")."""
        with self._journal.write() as db:
            if caller_exe:
                cur = db.execute("DELETE FROM grants WHERE tool=? AND caller_exe=?",
                                 (tool, caller_exe))
            else:
                cur = db.execute("DELETE FROM grants WHERE tool=?", (tool,))
        if cur.rowcount == 0:
            who = f" for {caller_exe}" if caller_exe else ""
            raise NotFound(f"there is no grant for {tool}{who}; `agentctl grants` lists them")
        self._cache = {(g.tool, g.caller_exe) for g in self.list()}
        return cur.rowcount

    def list(self) -> list[Grant]:
        rows = self._journal.read("SELECT tool, caller_exe, created FROM grants ORDER BY tool")
        return [Grant(*row) for row in rows]
