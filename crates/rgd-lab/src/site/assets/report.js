// The rgd report's run tables: click a column header to sort by it (again to reverse); type
// in the filter box to show only the rows holding every word typed.
"use strict";
for (const table of document.querySelectorAll("table.runs")) {
  const body = table.tBodies[0];
  const rows = Array.from(body.rows);
  const headers = Array.from(table.tHead.rows[0].cells);
  const count = document.querySelector(`[data-count-of="${table.id}"]`);
  const show = (shown) => {
    if (count) count.textContent = `${shown} of ${rows.length} runs`;
  };
  headers.forEach((th, column) => {
    th.querySelector("button").addEventListener("click", () => {
      const ascending = th.getAttribute("aria-sort") !== "ascending";
      headers.forEach((h) => h.removeAttribute("aria-sort"));
      th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
      const numeric = th.dataset.type === "number";
      const key = (row) => {
        const cell = row.cells[column];
        const text = cell.dataset.value ?? cell.textContent.trim();
        return numeric ? parseFloat(text) : text;
      };
      const order = (a, b) => {
        const [x, y] = [key(a), key(b)];
        if (numeric) {
          // Missing values last in either direction.
          if (Number.isNaN(x)) return Number.isNaN(y) ? 0 : 1;
          if (Number.isNaN(y)) return -1;
          return ascending ? x - y : y - x;
        }
        return ascending ? x.localeCompare(y) : y.localeCompare(x);
      };
      rows.sort(order);
      for (const row of rows) body.appendChild(row);
    });
  });
  const input = document.querySelector(`input[data-filter="${table.id}"]`);
  if (input) {
    input.addEventListener("input", () => {
      const words = input.value.toLowerCase().split(/\s+/).filter(Boolean);
      let shown = 0;
      for (const row of rows) {
        const text = row.textContent.toLowerCase();
        const keep = words.every((w) => text.includes(w));
        row.hidden = !keep;
        if (keep) shown += 1;
      }
      show(shown);
    });
  }
  show(rows.length);
}
