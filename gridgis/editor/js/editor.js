// gridgis map editor: an SVG map of the plan's grids with a toolbar and a side panel.
// Plain DOM, no library, nothing fetched. The Python side (gridgis.editor.PlanEditor) owns the
// plan; this view draws the model's state and sends events: click, box, draw and the edits.
const NS = "http://www.w3.org/2000/svg";
const CLICK_PX = 4;

function svgEl(tag, attrs, parent) {
  const e = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
  if (parent) parent.appendChild(e);
  return e;
}

function htmlEl(tag, cls, parent, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  if (parent) parent.appendChild(e);
  return e;
}

function esc(s) {
  return String(s).replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]);
}

function render({ model, el }) {
  const T = model.get("texts");
  const root = htmlEl("div", "gg-editor", el);
  const bar = htmlEl("div", "gg-toolbar", root);
  const body = htmlEl("div", "gg-body", root);
  const mapBox = htmlEl("div", "gg-map", body);
  const panel = htmlEl("div", "gg-panel", body);
  const status = htmlEl("div", "gg-status", root);
  htmlEl("div", "gg-hint", root, T.hint);
  mapBox.style.height = model.get("height") + "px";

  const svg = svgEl("svg", { class: "gg-svg", width: "100%", height: "100%" }, mapBox);
  const view = svgEl("g", { class: "gg-view" }, svg);
  const gBase = svgEl("g", { class: "gg-basemap" }, view);
  const gGrids = svgEl("g", { class: "gg-grids" }, view);
  const gBld = svgEl("g", { class: "gg-buildings" }, view);
  const gComm = svgEl("g", { class: "gg-communities" }, view);
  const gLabels = svgEl("g", { class: "gg-labels" }, view);
  const gDraw = svgEl("g", { class: "gg-drawing" }, view);
  const rubber = svgEl("rect", { class: "gg-rubber", visibility: "hidden" }, svg);

  const st = { k: 1, tx: 0, ty: 0, mode: "select", pts: [], down: null, fitted: false };

  // ---- toolbar ---------------------------------------------------------------------------
  const send = (msg) => model.send(msg);
  function button(key, cls, onclick, parent) {
    const b = htmlEl("button", "gg-btn " + (cls || ""), parent || bar, T[key]);
    b.dataset.action = key;
    b.addEventListener("click", onclick);
    return b;
  }
  const modes = htmlEl("span", "gg-group", bar);
  const modeButtons = {};
  for (const m of ["select", "line", "polygon"]) {
    modeButtons[m] = button("mode_" + m, "gg-mode", () => setMode(m), modes);
  }
  button("finish", "", () => finishDrawing(), modes);
  const edits = htmlEl("span", "gg-group", bar);
  button("merge", "", () => send({ type: "merge" }), edits);
  button("split_line", "", () => send({ type: "split_line" }), edits);
  const parts = htmlEl("input", "gg-parts", edits);
  parts.type = "number"; parts.min = "2"; parts.max = "9"; parts.value = "2"; parts.title = T.parts;
  button("split_parts", "", () => send({ type: "split_parts", parts: parseInt(parts.value || "2", 10) }), edits);
  button("transfer", "", () => send({ type: "transfer" }), edits);
  const attrs = htmlEl("span", "gg-group", bar);
  const name = htmlEl("input", "gg-name", attrs);
  name.placeholder = T.name_placeholder;
  button("rename", "", () => send({ type: "rename", name: name.value }), attrs);
  const kind = htmlEl("select", "gg-kind", attrs);
  for (const [k, label] of model.get("kinds")) {
    const o = htmlEl("option", "", kind, label);
    o.value = k;
  }
  button("set_kind", "", () => send({ type: "set_kind", kind: kind.value }), attrs);
  const hist = htmlEl("span", "gg-group", bar);
  const undo = button("undo", "", () => send({ type: "undo" }), hist);
  const redo = button("redo", "", () => send({ type: "redo" }), hist);
  const bld = button("buildings", "gg-toggle", () => send({ type: "buildings", show: !model.get("show_buildings"), bounds: viewBounds() }), hist);
  button("clear", "", () => send({ type: "clear" }), hist);
  const save = htmlEl("span", "gg-group", bar);
  const note = htmlEl("input", "gg-note", save);
  note.placeholder = T.note_placeholder;
  button("save", "", () => send({ type: "save", note: note.value }), save);
  button("show_code", "", () => send({ type: "code" }), save);
  const code = htmlEl("textarea", "gg-code", root);
  code.readOnly = true;
  code.style.display = "none";

  function setMode(m) {
    st.mode = m;
    st.pts = [];
    drawSketch();
    for (const [k, b] of Object.entries(modeButtons)) b.classList.toggle("gg-on", k === m);
    svg.dataset.mode = m;
  }

  // ---- coordinates -----------------------------------------------------------------------
  function toData(cx, cy) {
    const r = svg.getBoundingClientRect();
    return [(cx - r.left - st.tx) / st.k, (cy - r.top - st.ty) / st.k];
  }
  function toMercator(p) {
    const [ox, oy] = model.get("origin");
    return [p[0] + ox, oy - p[1]];
  }
  function viewBounds() {
    const r = svg.getBoundingClientRect();
    const a = toMercator(toData(r.left, r.bottom));
    const b = toMercator(toData(r.right, r.top));
    return [a[0], a[1], b[0], b[1]];
  }
  function applyView() {
    view.setAttribute("transform", `matrix(${st.k} 0 0 ${st.k} ${st.tx} ${st.ty})`);
    gLabels.setAttribute("font-size", (12 / st.k).toString());
    gLabels.setAttribute("stroke-width", (3 / st.k).toString());
    placeLabels();
  }
  function fit() {
    const r = svg.getBoundingClientRect();
    const [x0, y0, x1, y1] = model.get("extent");
    if (r.width < 10 || r.height < 10) return false;
    st.k = 0.95 * Math.min(r.width / Math.max(x1 - x0, 1), r.height / Math.max(y1 - y0, 1));
    st.tx = (r.width - (x1 - x0) * st.k) / 2 - x0 * st.k;
    st.ty = (r.height - (y1 - y0) * st.k) / 2 - y0 * st.k;
    applyView();
    return true;
  }

  // ---- layers ----------------------------------------------------------------------------
  function drawGrids() {
    const colours = model.get("colours");
    const sel = new Set(model.get("selected"));
    const parts = [];
    const labels = [];
    for (const g of model.get("grids")) {
      const cls = "gg-grid gg-" + g.s + (sel.has(g.c) ? " gg-sel" : "") + (g.f[0] ? " gg-err" : "");
      parts.push(`<path class="${cls}" data-code="${esc(g.c)}" data-x="${g.x}" data-y="${g.y}" fill="${colours[g.s]}" d="${g.d}"/>`);
      labels.push(`<text x="${g.x}" y="${g.y}" data-w="${g.w}" data-h="${g.h}">${esc(g.l)}</text>`);
    }
    gGrids.innerHTML = parts.join("");
    gLabels.innerHTML = labels.join("");
    for (const p of gGrids.children) p.setAttribute("vector-effect", "non-scaling-stroke");
    placeLabels();
    root.dataset.grids = String(model.get("grids").length);
  }
  function drawSelection() {
    const sel = new Set(model.get("selected"));
    for (const p of gGrids.children) p.classList.toggle("gg-sel", sel.has(p.dataset.code));
    // selected grids on top so that their outline shows whole
    for (const p of Array.from(gGrids.querySelectorAll(".gg-sel"))) gGrids.appendChild(p);
    root.dataset.selected = String(sel.size);
  }
  function placeLabels() {
    for (const t of gLabels.children) {
      const fits = parseFloat(t.dataset.w) * st.k > t.textContent.length * 12 + 4 &&
        parseFloat(t.dataset.h) * st.k > 16;
      t.style.display = fits ? "" : "none";
    }
  }
  function drawPaths(layer, paths, cls) {
    layer.innerHTML = paths.map((d) => `<path class="${cls}" d="${d}" vector-effect="non-scaling-stroke"/>`).join("");
  }
  function drawBasemap() {
    gBase.innerHTML = model.get("basemap").map((t) =>
      `<image href="${t.href}" x="${t.x}" y="${t.y}" width="${t.w}" height="${t.h}" preserveAspectRatio="none"/>`).join("");
  }
  function drawSketch() {
    const d = model.get("drawing") || {};
    let html = d.d ? `<path class="gg-drawn gg-drawn-${d.shape}" d="${d.d}${d.shape === "polygon" ? "Z" : ""}" vector-effect="non-scaling-stroke"/>` : "";
    if (st.pts.length) {
      const pts = st.pts.map((p) => p.join(",")).join(" ");
      const tag = st.mode === "polygon" ? "polygon" : "polyline";
      html += `<${tag} class="gg-sketch" points="${pts}" vector-effect="non-scaling-stroke"/>`;
    }
    gDraw.innerHTML = html;
  }
  function drawPanel() { panel.innerHTML = model.get("panel"); }
  function drawStatus() { status.textContent = model.get("status"); }
  function drawCode() {
    const text = model.get("code");
    code.value = text;
    code.style.display = text ? "" : "none";
    if (text) { code.focus(); code.select(); }
  }
  function drawButtons() {
    undo.disabled = !model.get("can_undo");
    redo.disabled = !model.get("can_redo");
    bld.classList.toggle("gg-on", model.get("show_buildings"));
  }

  // ---- mouse -----------------------------------------------------------------------------
  function finishDrawing() {
    const need = st.mode === "polygon" ? 3 : 2;
    if (st.mode === "select" || st.pts.length < need) return;
    send({ type: "draw", shape: st.mode, coords: st.pts.map(toMercator) });
    st.pts = [];
    drawSketch();
  }
  function onDown(ev) {
    if (ev.button !== 0) return;
    st.down = { x: ev.clientX, y: ev.clientY, tx: st.tx, ty: st.ty, shift: ev.shiftKey, target: ev.target, moved: false };
    ev.preventDefault();
  }
  function onMove(ev) {
    const d = st.down;
    if (!d) return;
    const dx = ev.clientX - d.x, dy = ev.clientY - d.y;
    if (Math.abs(dx) + Math.abs(dy) > CLICK_PX) d.moved = true;
    if (!d.moved) return;
    if (d.shift && st.mode === "select") {
      const r = svg.getBoundingClientRect();
      rubber.setAttribute("x", Math.min(d.x, ev.clientX) - r.left);
      rubber.setAttribute("y", Math.min(d.y, ev.clientY) - r.top);
      rubber.setAttribute("width", Math.abs(dx));
      rubber.setAttribute("height", Math.abs(dy));
      rubber.setAttribute("visibility", "visible");
    } else {
      st.tx = d.tx + dx;
      st.ty = d.ty + dy;
      applyView();
    }
  }
  function onUp(ev) {
    const d = st.down;
    st.down = null;
    if (!d) return;
    rubber.setAttribute("visibility", "hidden");
    if (d.moved) {
      if (d.shift && st.mode === "select") {
        const a = toMercator(toData(Math.min(d.x, ev.clientX), Math.max(d.y, ev.clientY)));
        const b = toMercator(toData(Math.max(d.x, ev.clientX), Math.min(d.y, ev.clientY)));
        send({ type: "box", bounds: [a[0], a[1], b[0], b[1]], add: true });
      } else if (model.get("show_buildings")) {
        send({ type: "buildings", show: true, bounds: viewBounds() });
      }
      return;
    }
    if (st.mode === "select") {
      const code = d.target && d.target.dataset ? d.target.dataset.code : undefined;
      send({ type: "click", code: code === undefined ? null : code, add: d.shift, at: toMercator(toData(ev.clientX, ev.clientY)) });
    } else {
      const p = toData(ev.clientX, ev.clientY);
      const last = st.pts[st.pts.length - 1];
      if (!last || Math.hypot((p[0] - last[0]) * st.k, (p[1] - last[1]) * st.k) > CLICK_PX) st.pts.push(p);
      drawSketch();
    }
  }
  function onWheel(ev) {
    ev.preventDefault();
    const r = svg.getBoundingClientRect();
    const f = Math.exp(-ev.deltaY * 0.0015);
    const mx = ev.clientX - r.left, my = ev.clientY - r.top;
    st.tx = mx - (mx - st.tx) * f;
    st.ty = my - (my - st.ty) * f;
    st.k *= f;
    applyView();
  }
  function onKey(ev) {
    if (ev.key === "Escape") { st.pts = []; drawSketch(); }
    if (ev.key === "Enter") finishDrawing();
  }
  svg.addEventListener("mousedown", onDown);
  svg.addEventListener("mousemove", onMove);
  svg.addEventListener("mouseup", onUp);
  svg.addEventListener("mouseleave", () => { st.down = null; rubber.setAttribute("visibility", "hidden"); });
  svg.addEventListener("dblclick", (ev) => { ev.preventDefault(); finishDrawing(); });
  svg.addEventListener("wheel", onWheel, { passive: false });
  root.tabIndex = 0;
  root.addEventListener("keydown", onKey);

  // ---- model -----------------------------------------------------------------------------
  // Chinese labels without a system CJK font: the kernel sends gridgis' bundled font once.
  model.on("msg:custom", (msg, buffers) => {
    if (msg.type !== "font" || !buffers || !buffers.length || window.__gridgisFont) return;
    window.__gridgisFont = true;
    const face = new FontFace(msg.family, buffers[0]);
    face.load().then((f) => { document.fonts.add(f); placeLabels(); }).catch(() => { window.__gridgisFont = false; });
  });
  if (!window.__gridgisFont) send({ type: "font" });
  model.on("change:grids", () => { drawGrids(); drawSelection(); });
  model.on("change:selected", drawSelection);
  model.on("change:communities", () => drawPaths(gComm, model.get("communities"), "gg-community"));
  model.on("change:buildings", () => drawPaths(gBld, model.get("buildings"), "gg-building"));
  model.on("change:basemap", drawBasemap);
  model.on("change:drawing", drawSketch);
  model.on("change:panel", drawPanel);
  model.on("change:status", drawStatus);
  model.on("change:code", drawCode);
  model.on("change:can_undo", drawButtons);
  model.on("change:can_redo", drawButtons);
  model.on("change:show_buildings", drawButtons);

  drawBasemap();
  drawGrids();
  drawSelection();
  drawPaths(gComm, model.get("communities"), "gg-community");
  drawPaths(gBld, model.get("buildings"), "gg-building");
  drawSketch();
  drawPanel();
  drawStatus();
  drawButtons();
  setMode("select");
  // the element gets its size once it is attached: fit the plan then
  const ro = new ResizeObserver(() => { if (!st.fitted) st.fitted = fit(); });
  ro.observe(mapBox);
  requestAnimationFrame(() => { if (!st.fitted) st.fitted = fit(); });
  root.dataset.ready = "1";
  return () => ro.disconnect();
}

export default { render };
