"""Grid columns fit their content when the columns arrive with the rows (headless Chromium).

dash-ag-grid applies ``columnSize`` once, when the grid is created: every page's grid is
created empty and gets its ``columnDefs`` and ``rowData`` from a callback, so without AG Grid's
own ``autoSizeStrategy`` (applied when the first rows are drawn) the columns stayed at AG Grid's
default 200 px whatever they held.
"""

from __future__ import annotations

import time

import dash
import pytest
from dash import Input, Output, html

from dashboard.components import grid
from tests.dashboard.console import capture_console, console_messages


@pytest.mark.browser
def test_columns_sent_by_a_callback_are_sized_to_their_content(dash_duo):
    app = dash.Dash(__name__)
    app.layout = html.Div([grid("t-widths", export=False), html.Button("go", id="go")])

    @app.callback(
        Output("t-widths", "columnDefs"),
        Output("t-widths", "rowData"),
        Input("go", "n_clicks"),
        prevent_initial_call=True,
    )
    def fill(_n):
        cols = [
            {"field": "ccy", "headerName": "Ccy"},
            {
                "field": "long",
                "headerName": "A long header naming its unit (USD per 1% move, + = buy)",
            },
        ]
        rows = [{"ccy": "EUR", "long": "-12,345,678,901.23 USD"}, {"ccy": "JPY", "long": "1"}]
        return cols, rows

    dash_duo.start_server(app)
    capture_console(dash_duo.driver)
    dash_duo.wait_for_page(url=dash_duo.server_url)  # reloaded: the recorder runs first
    # the grid is drawn empty first, as on the pages (their data comes after the version check)
    dash_duo.wait_for_element("#t-widths .ag-root", timeout=20)
    time.sleep(1.0)
    dash_duo.find_element("#go").click()
    dash_duo.wait_for_element("#t-widths .ag-cell", timeout=20)

    def widths() -> dict[str, float]:
        return dash_duo.driver.execute_script(
            "const out = {};"
            "document.querySelectorAll('#t-widths .ag-header-cell').forEach(h => {"
            "  out[h.getAttribute('col-id')] = h.getBoundingClientRect().width; });"
            "return out;"
        )

    dash_duo.wait_for_text_to_equal("#t-widths .ag-cell", "EUR", timeout=20)
    deadline = time.time() + 10
    w = widths()
    while time.time() < deadline and w.get("ccy", 200) == 200:
        time.sleep(0.2)
        w = widths()
    assert w["ccy"] < 150, w  # a 3-letter column is not 200 px wide (minWidth 90)
    # the wide cell is shown whole: its column is at least as wide as its text
    text_px = dash_duo.driver.execute_script(
        "const c = [...document.querySelectorAll('#t-widths .ag-cell[col-id=long]')][0];"
        "const r = document.createRange(); r.selectNodeContents(c.querySelector('.ag-cell-value') || c);"
        "return r.getBoundingClientRect().width;"
    )
    assert w["long"] >= text_px, (w, text_px)
    # no error or warning, by its text (dash[testing]'s SEVERE log says only "Object" for the
    # errors Dash's renderer re-logs).  Chromium's "ResizeObserver loop" notice (the layout moved
    # while AG Grid sized its columns, on a busy machine) is not one: nothing is lost with it.
    seen = console_messages(dash_duo.driver)
    assert [m for m in seen if "ResizeObserver loop" not in m] == [], seen[:5]
    severe = [e for e in dash_duo.get_logs() or [] if e.get("level") == "SEVERE"]
    assert not severe or seen, severe[:3]
