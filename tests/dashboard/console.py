"""Every console warning and error of a page, from its first script on (headless Chromium).

dash[testing] asks Chromium for SEVERE browser logs only, so library warnings (AG Grid's
``warning #29``, React's) never reach ``dash_duo.get_logs()``.  :func:`capture_console` installs,
through the DevTools protocol, a script that runs before any script of every document the browser
opens and records ``console.warn`` / ``console.error`` calls and uncaught errors;
:func:`console_messages` reads them back.
"""

from __future__ import annotations

from typing import Any

_RECORDER = """
window.__fdConsole = [];
for (const level of ["warn", "error"]) {
  const original = console[level].bind(console);
  console[level] = (...args) => {
    window.__fdConsole.push(level + ": " + args.map(String).join(" "));
    original(...args);
  };
}
window.addEventListener("error", (e) => window.__fdConsole.push("uncaught: " + e.message));
"""


def capture_console(driver: Any) -> None:
    """Record the console warnings and errors of every document opened from now on."""
    driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": _RECORDER})


def console_messages(driver: Any) -> list[str]:
    """The warnings and errors recorded in the current document (``"warn: ..."``, ...)."""
    return list(driver.execute_script("return window.__fdConsole || []"))
