"""The one script any page carries (sorting the class table) and the pages' Content-Security-Policy.

Why a CSP on static files: escaping is the defence against a submission that
prints ``<script>``; the policy is the second line. Pages allow no script at
all, except the class index, which allows exactly this script by its hash.
Nothing may be fetched (``default-src 'none'``), so a page that would try to
load a resource fails loudly in the browser test instead of phoning home.
"""
from __future__ import annotations

import base64
import hashlib

from markupsafe import Markup

# Sorts #students by a header click; the table is complete and ordered without it.
# "#sort=score-desc" in the address sorts on load, so a sorted view can be bookmarked.
SORT_TABLE_JS = """
(function () {
  "use strict";
  var table = document.getElementById("students");
  if (!table || !table.tHead || !table.tBodies.length) return;
  var heads = table.tHead.rows[0].cells, body = table.tBodies[0];
  function value(row, col, numeric) {
    var cell = row.cells[col], v = cell.getAttribute("data-sort");
    if (v === null) v = cell.textContent.trim().toLowerCase();
    return numeric ? parseFloat(v) : v;
  }
  function sort(col, dir) {
    var numeric = heads[col].getAttribute("data-type") === "number";
    var rows = Array.prototype.slice.call(body.rows);
    rows.sort(function (a, b) {
      var x = value(a, col, numeric), y = value(b, col, numeric);
      var c = x < y ? -1 : x > y ? 1 : 0;
      return c * dir || a.getAttribute("data-order") - b.getAttribute("data-order");
    });
    rows.forEach(function (r) { body.appendChild(r); });
    for (var i = 0; i < heads.length; i++) heads[i].removeAttribute("aria-sort");
    heads[col].setAttribute("aria-sort", dir > 0 ? "ascending" : "descending");
  }
  Array.prototype.forEach.call(heads, function (th, col) {
    var key = th.getAttribute("data-key");
    if (!key) return;
    var button = document.createElement("button");
    button.type = "button";
    button.textContent = th.textContent;
    button.title = "sort by this column";
    th.textContent = "";
    th.appendChild(button);
    button.addEventListener("click", function () {
      var dir = th.getAttribute("aria-sort") === "ascending" ? -1 : 1;
      sort(col, dir);
      try { history.replaceState(null, "", "#sort=" + key + (dir > 0 ? "" : "-desc")); } catch (e) {}
    });
  });
  var m = /^#sort=([a-z]+)(-desc)?$/.exec(location.hash);
  if (m) {
    var th = table.querySelector('th[data-key="' + m[1] + '"]');
    if (th) sort(th.cellIndex, m[2] ? -1 : 1);
  }
  table.setAttribute("data-sortable", "on");
})();
"""


def script_hash(script: str) -> str:
    """The CSP source expression allowing exactly this inline script."""
    digest = hashlib.sha256(script.encode("utf-8")).digest()
    return "'sha256-" + base64.b64encode(digest).decode("ascii") + "'"


def content_security_policy(scripts: tuple[str, ...] = ()) -> str:
    script_src = " ".join(script_hash(s) for s in scripts) if scripts else "'none'"
    return ("default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
            f"script-src {script_src}; base-uri 'none'; form-action 'none'")


def sort_table_script() -> Markup:
    # Our own constant, not student text: safe to emit as markup.
    return Markup(SORT_TABLE_JS)
