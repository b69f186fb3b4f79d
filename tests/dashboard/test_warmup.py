"""The server process imports the app's modules before its first visitor (dashboard/server.py,
dashboard.startup.import_app_modules), so that no visitor waits for them."""

from __future__ import annotations

import ast
import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

from dashboard import startup
from dashboard.serve import APP, SERVER

#: Imported as uvicorn imports it for `streamlit run dashboard/server.py` ("server:app", with
#: the script's folder on sys.path), in a fresh interpreter; says what is then loaded.
SERVER_IMPORT = """
import json, sys
sys.path.insert(0, sys.argv[1])
import server
print(json.dumps({"modules": sorted(sys.modules), "app": type(server.app).__name__}))
"""
LOADED_FIRST = ("pandas", "altair", "sqlalchemy", "pydantic", "pyarrow", "dashboard.data",
                "dashboard.queries", "dashboard.components", "dashboard.insights.overview",
                "dashboard.insights.effect_estimates")


def test_importing_the_server_module_imports_the_apps_modules_without_touching_a_database(
    tmp_path: Path,
) -> None:
    database = tmp_path / "never-made.db"
    environment = {**os.environ, "CHORUS_DATABASE_URL": f"sqlite:///{database}"}
    done = subprocess.run([sys.executable, "-c", SERVER_IMPORT, str(SERVER.parent)],
                          capture_output=True, text=True, env=environment, cwd=tmp_path,
                          timeout=120, check=True)
    found = json.loads(done.stdout.strip().splitlines()[-1])
    assert found["app"] == "App"
    assert [m for m in LOADED_FIRST if m not in found["modules"]] == []
    assert not database.exists()


def _is_module(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except ModuleNotFoundError:  # a name inside a module, as in `from dashboard.data import x`
        return False


def test_every_dashboard_module_a_page_imports_is_imported_at_start_up() -> None:
    imported = set(startup.import_app_modules())
    scripts = [APP, *sorted((APP.parent / "app_pages").glob("*.py"))]
    wanted = set()
    for script in scripts:
        for node in ast.walk(ast.parse(script.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module == "dashboard":
                wanted |= {f"dashboard.{a.name}" for a in node.names}
            elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("dashboard."):
                wanted.add(node.module or "")
    modules = {name for name in wanted if _is_module(name)}  # not a function's name
    assert modules, "no dashboard module found in the page scripts"
    assert modules - imported == set()


def test_the_page_scripts_are_not_imported_at_start_up() -> None:
    imported = startup.import_app_modules()
    assert "dashboard.app" not in imported and "dashboard.server" not in imported
    assert not any(name.startswith("dashboard.app_pages") for name in imported)
