
"use strict";
// weft lineage page. Everything the graph supplies is untrusted text (SQL
// from query logs, names from catalogs): it reaches the DOM only through
// textContent or setAttribute on data-* attributes, never as markup.
(function () {
  const t0 = performance.now();
  const data = JSON.parse(document.getElementById("weft-data").textContent);
  const SVG = "http://www.w3.org/2000/svg";
  const MAX_ALL = 400;    // above this many datasets, "whole graph" is off
  const MAX_NODES = 250;  // never draw more datasets than this at once
  const MAX_COLS = 60;    // columns listed in an expanded dataset
  const W = 260, HEAD = 42, ROW = 18, GAPX = 84, GAPY = 16;

  const ds = data.datasets || [];
  const jobs = data.jobs || [];
  const evidence = data.evidence || [];
  const edges = data.edges || [];
  const colEdges = data.columnEdges || [];
  const platforms = data.platforms || {};

  // Indexes, built once: adjacency by edge index, the column edges of each
  // table edge, the column edges at each column, every column of a dataset.
  const up = ds.map(() => []), down = ds.map(() => []);
  edges.forEach((e, i) => { up[e.to].push(i); down[e.from].push(i); });
  const pairKey = (a, b) => a + ">" + b;
  const colKey = (n, c) => n + "\u0000" + c;
  const colsByPair = new Map(), colUp = new Map(), colDown = new Map(), wholeUp = new Map();
  const extraCols = ds.map(() => null);
  function push(m, k, v) { const l = m.get(k); if (l) l.push(v); else m.set(k, [v]); }
  colEdges.forEach((c, i) => {
    push(colsByPair, pairKey(c.from, c.to), i);
    push(colDown, colKey(c.from, c.fromColumn), i);
    if (c.toColumn === "") push(wholeUp, c.to, i); else push(colUp, colKey(c.to, c.toColumn), i);
  });
  const colNames = ds.map((d) => (d.columns || []).map((c) => c.name));
  const colSets = colNames.map((l) => new Set(l));
  colEdges.forEach((c) => {
    for (const [n, name] of [[c.from, c.fromColumn], [c.to, c.toColumn]]) {
      if (name && !colSets[n].has(name)) { colSets[n].add(name); colNames[n].push(name); extraCols[n] = true; }
    }
  });
  const lower = ds.map((d) => (d.ns + "/" + d.name).toLowerCase());
  const lowerName = ds.map((d) => d.name.toLowerCase());

  const state = { focus: data.focus, depth: data.depth, expanded: new Set(), allCols: false, whole: false, col: null, trace: null };
  const el = (id) => document.getElementById(id);
  function mk(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }
  function sv(tag, attrs) {
    const e = document.createElementNS(SVG, tag);
    for (const k in attrs) e.setAttribute(k, attrs[k]);
    return e;
  }
  const colour = (n) => platforms[ds[n].platform] || "#9ca3af";
  const full = (n) => ds[n].ns + "/" + ds[n].name;
  function shortName(n) {
    const name = ds[n].name, i = name.lastIndexOf(".");
    return i < 0 || i === name.length - 1 ? name : name.slice(i + 1);
  }
  function prefix(n) {
    const name = ds[n].name, i = name.lastIndexOf(".");
    return i <= 0 ? ds[n].ns : name.slice(0, i);
  }
  function clip(s, n) { return s.length > n ? s.slice(0, n - 1) + "…" : s; }

  el("title").textContent = data.title;
  document.title = data.title;
  const depthSel = el("depth");
  depthSel.value = String(state.depth);
  if (depthSel.value === "") { depthSel.value = "2"; state.depth = 2; }

  // Legend: one colour per platform, then the highlight colours.
  const counts = {};
  ds.forEach((d) => { counts[d.platform] = (counts[d.platform] || 0) + 1; });
  for (const p of Object.keys(platforms).sort()) {
    const s = mk("span", "lg");
    const dot = mk("span", "dot");
    dot.style.background = platforms[p];
    s.appendChild(dot);
    s.appendChild(document.createTextNode(p + " " + (counts[p] || 0)));
    el("legend").appendChild(s);
  }
  for (const [name, c] of [["upstream", "var(--up)"], ["downstream", "var(--down)"]]) {
    const s = mk("span", "lg");
    const sw = mk("span", "sw");
    sw.style.borderColor = c;
    s.appendChild(sw);
    s.appendChild(document.createTextNode(name));
    el("legend").appendChild(s);
  }

  // bfs returns node -> distance from start over one direction, stopping
  // after depth steps (0: no limit) or once limit nodes are reached.
  function bfs(start, adj, end, depth, limit) {
    const dist = new Map([[start, 0]]);
    let frontier = [start], cut = false;
    for (let d = 1; frontier.length && (depth === 0 || d <= depth); d++) {
      const next = [];
      for (const n of frontier) {
        for (const ei of adj[n]) {
          const m = edges[ei][end];
          if (dist.has(m)) continue;
          if (dist.size >= limit) { cut = true; break; }
          dist.set(m, d); next.push(m);
        }
      }
      frontier = next;
    }
    return { dist, cut };
  }

  // visible picks the datasets to draw and their roles.
  function visible() {
    const role = new Map();
    let cut = false;
    if (state.focus >= 0) {
      const u = bfs(state.focus, up, "from", state.depth, MAX_NODES / 2);
      const d = bfs(state.focus, down, "to", state.depth, MAX_NODES / 2);
      cut = u.cut || d.cut;
      for (const n of u.dist.keys()) role.set(n, "up");
      for (const n of d.dist.keys()) if (!role.has(n)) role.set(n, "down");
      role.set(state.focus, "focus");
    } else if (state.whole) {
      for (let i = 0; i < ds.length && i < MAX_ALL; i++) role.set(i, "");
    }
    return { role, cut };
  }

  // layers assigns each drawn dataset a column so that every edge points
  // right: longest path from the focus downstream, longest path to the
  // focus upstream (negative), and longest path from the sources for the
  // whole graph. Back edges of cycles are ignored.
  function layers(role) {
    const layer = new Map();
    if (state.focus >= 0) {
      const memoDown = new Map(), memoUp = new Map();
      for (const [n, r] of role) {
        if (r === "up") layer.set(n, -towardFocus(n, memoUp));
        else if (r === "down") layer.set(n, fromFocus(n, memoDown));
      }
      layer.set(state.focus, 0);
      return layer;
    }
    const memo = new Map();
    for (const n of role.keys()) layer.set(n, fromSources(n, memo, new Set()));
    // A source sits just left of its first reader, not in column 0.
    for (const n of role.keys()) {
      if (up[n].some((ei) => role.has(edges[ei].from))) continue;
      let min = Infinity;
      for (const ei of down[n]) if (role.has(edges[ei].to) && edges[ei].to !== n) min = Math.min(min, layer.get(edges[ei].to));
      if (min !== Infinity && min - 1 > layer.get(n)) layer.set(n, min - 1);
    }
    return layer;

    // fromSources: longest path from a source to n over drawn nodes.
    function fromSources(n, memo, stack) {
      if (memo.has(n)) return memo.get(n);
      stack.add(n);
      let best = 0;
      for (const ei of up[n]) {
        const m = edges[ei].from;
        if (m === n || !role.has(m) || stack.has(m)) continue;
        best = Math.max(best, fromSources(m, memo, stack) + 1);
      }
      stack.delete(n);
      memo.set(n, best);
      return best;
    }
    // fromFocus: longest path from the focus to n over drawn downstream nodes.
    function fromFocus(n, memo) {
      return walk(n, up, "from", memo, new Set(), (m) => role.get(m) === "down");
    }
    // towardFocus: longest path from n to the focus over drawn upstream nodes.
    function towardFocus(n, memo) {
      return walk(n, down, "to", memo, new Set(), (m) => role.get(m) === "up");
    }
    function walk(n, adj, end, memo, stack, through) {
      if (n === state.focus) return 0;
      if (memo.has(n)) return memo.get(n);
      stack.add(n);
      let best = 1;
      for (const ei of adj[n]) {
        const m = edges[ei][end];
        if (m === state.focus) { best = Math.max(best, 1); continue; }
        if (!through(m) || stack.has(m)) continue;
        best = Math.max(best, walk(m, adj, end, memo, stack, through) + 1);
      }
      stack.delete(n);
      memo.set(n, best);
      return best;
    }
  }

  function expanded(n) { return state.allCols || state.expanded.has(n); }

  // shownCols lists the columns drawn for an expanded dataset.
  function shownCols(n) {
    const all = colNames[n];
    if (all.length <= MAX_COLS) return { cols: all, more: 0 };
    const cols = all.filter((c, i) => i < MAX_COLS || (state.trace && state.trace.cols.has(colKey(n, c))));
    return { cols, more: all.length - cols.length };
  }
  function height(n) {
    if (!expanded(n) || colNames[n].length === 0) return HEAD;
    const s = shownCols(n);
    return HEAD + ROW * (s.cols.length + (s.more ? 1 : 0)) + 6;
  }

  // order arranges each layer to reduce crossings (barycentre sweeps) and
  // places nodes vertically near their neighbours without overlaps.
  function place(layer) {
    const byLayer = new Map();
    for (const [n, l] of layer) { if (!byLayer.has(l)) byLayer.set(l, []); byLayer.get(l).push(n); }
    const keys = [...byLayer.keys()].sort((a, b) => a - b);
    const cols = keys.map((k) => byLayer.get(k).sort((a, b) => ds[a].name.localeCompare(ds[b].name)));
    const rank = new Map();
    const setRanks = () => cols.forEach((c) => c.forEach((n, i) => rank.set(n, i / Math.max(1, c.length - 1))));
    setRanks();
    const nbrs = (n) => {
      const out = [];
      for (const ei of up[n]) if (layer.has(edges[ei].from)) out.push(edges[ei].from);
      for (const ei of down[n]) if (layer.has(edges[ei].to)) out.push(edges[ei].to);
      return out;
    };
    const nb = new Map();
    for (const n of layer.keys()) nb.set(n, nbrs(n));
    for (let pass = 0; pass < 6; pass++) {
      const order = pass % 2 === 0 ? cols.map((_, i) => i) : cols.map((_, i) => cols.length - 1 - i);
      for (const ci of order) {
        const bary = new Map();
        for (const n of cols[ci]) {
          const l = nb.get(n);
          bary.set(n, l.length ? l.reduce((s, m) => s + rank.get(m), 0) / l.length : rank.get(n));
        }
        cols[ci].sort((a, b) => bary.get(a) - bary.get(b) || rank.get(a) - rank.get(b));
        cols[ci].forEach((n, i) => rank.set(n, i / Math.max(1, cols[ci].length - 1)));
      }
    }
    // Vertical placement: stack, centre each column, then pull nodes
    // towards their neighbours' centres while keeping order and gaps.
    const pos = new Map();
    const colH = cols.map((c) => c.reduce((s, n) => s + height(n) + GAPY, -GAPY));
    const maxH = Math.max(...colH);
    cols.forEach((c, ci) => {
      let y = (maxH - colH[ci]) / 2;
      for (const n of c) { pos.set(n, { x: ci * (W + GAPX), y, h: height(n) }); y += height(n) + GAPY; }
    });
    for (let pass = 0; pass < 4; pass++) {
      cols.forEach((c) => {
        const want = c.map((n) => {
          const l = nb.get(n), p = pos.get(n);
          if (!l.length) return p.y;
          const mid = l.reduce((s, m) => s + pos.get(m).y + Math.min(pos.get(m).h, HEAD) / 2, 0) / l.length;
          return mid - Math.min(p.h, HEAD) / 2;
        });
        // Forward pass keeps the gaps, backward pass pulls nodes up again.
        for (let i = 0; i < c.length; i++) {
          const min = i ? pos.get(c[i - 1]).y + pos.get(c[i - 1]).h + GAPY : -Infinity;
          pos.get(c[i]).y = Math.max(want[i], min);
        }
        for (let i = c.length - 2; i >= 0; i--) {
          const max = pos.get(c[i + 1]).y - pos.get(c[i]).h - GAPY;
          pos.get(c[i]).y = Math.min(pos.get(c[i]).y, Math.max(max, want[i]));
          if (pos.get(c[i]).y > max) pos.get(c[i]).y = max;
        }
      });
    }
    let minY = Infinity, maxY = -Infinity;
    for (const p of pos.values()) { minY = Math.min(minY, p.y); maxY = Math.max(maxY, p.y + p.h); }
    for (const p of pos.values()) p.y -= minY;
    return { pos, width: keys.length * (W + GAPX) - GAPX, height: maxY - minY };
  }

  // Column tracing: every column edge upstream and downstream of one
  // column. An edge into "every column" of a dataset (a filter, a join key)
  // counts as upstream of each of its columns.
  function trace(n, name) {
    const edgesSeen = new Set(), cols = new Set([colKey(n, name)]);
    const todo = [[n, name]];
    while (todo.length) {
      const [m, c] = todo.pop();
      for (const i of (colUp.get(colKey(m, c)) || []).concat(wholeUp.get(m) || [])) {
        if (edgesSeen.has(i)) continue;
        edgesSeen.add(i);
        const e = colEdges[i], k = colKey(e.from, e.fromColumn);
        if (!cols.has(k)) { cols.add(k); todo.push([e.from, e.fromColumn]); }
      }
    }
    const todoDown = [[n, name]];
    while (todoDown.length) {
      const [m, c] = todoDown.pop();
      for (const i of colDown.get(colKey(m, c)) || []) {
        if (edgesSeen.has(i)) continue;
        edgesSeen.add(i);
        const e = colEdges[i];
        if (e.toColumn === "") continue;
        const k = colKey(e.to, e.toColumn);
        if (!cols.has(k)) { cols.add(k); todoDown.push([e.to, e.toColumn]); }
      }
    }
    const datasets = new Set();
    for (const i of edgesSeen) { datasets.add(colEdges[i].from); datasets.add(colEdges[i].to); }
    return { edges: edgesSeen, cols, datasets };
  }

  // Pan and zoom.
  const svg = el("svg"), viewport = el("viewport");
  const view = { k: 1, x: 20, y: 20 };
  function applyView() { viewport.setAttribute("transform", "translate(" + view.x + "," + view.y + ") scale(" + view.k + ")"); }
  let drawn = { width: 0, height: 0, pos: new Map() };
  // fit scales the drawing to the window (never below a readable size)
  // and centres it, keeping the focus dataset in view.
  function fit(centreOn) {
    const cw = svg.clientWidth || 800, ch = svg.clientHeight || 600, pad = 30;
    const k = Math.min(1.1, (cw - 2 * pad) / Math.max(1, drawn.width), (ch - 2 * pad) / Math.max(1, drawn.height));
    view.k = Math.max(0.6, k);
    const clamp = (v, lo, hi) => Math.min(Math.max(v, lo), Math.max(lo, hi));
    view.x = (cw - drawn.width * view.k) / 2;
    view.y = (ch - drawn.height * view.k) / 2;
    if (drawn.height * view.k > ch) view.y = pad;
    const p = drawn.pos.get(centreOn);
    if (p) {
      // Centre the focus where the drawing is larger than the window,
      // without leaving a blank margin at the drawing's edges.
      if (drawn.width * view.k > cw - 2 * pad) view.x = clamp(cw / 2 - (p.x + W / 2) * view.k, cw - pad - drawn.width * view.k, pad);
      if (drawn.height * view.k > ch - 2 * pad) view.y = clamp(ch / 2 - (p.y + HEAD / 2) * view.k, ch - pad - drawn.height * view.k, pad);
    }
    applyView();
  }
  svg.addEventListener("wheel", (ev) => {
    ev.preventDefault();
    const r = svg.getBoundingClientRect(), mx = ev.clientX - r.left, my = ev.clientY - r.top;
    const k = Math.min(3, Math.max(0.1, view.k * Math.exp(-ev.deltaY * 0.0015)));
    view.x = mx - (mx - view.x) * k / view.k;
    view.y = my - (my - view.y) * k / view.k;
    view.k = k;
    applyView();
  }, { passive: false });
  let pan = null;
  svg.addEventListener("mousedown", (ev) => {
    if (ev.target !== svg) return;
    pan = { x: ev.clientX - view.x, y: ev.clientY - view.y };
    svg.classList.add("panning");
  });
  window.addEventListener("mousemove", (ev) => {
    if (!pan) return;
    view.x = ev.clientX - pan.x; view.y = ev.clientY - pan.y;
    applyView();
  });
  window.addEventListener("mouseup", () => { pan = null; svg.classList.remove("panning"); });

  // Tooltip.
  const tip = el("tip");
  function showTip(ev, build) {
    tip.textContent = "";
    build(tip);
    tip.style.display = "block";
    moveTip(ev);
  }
  function moveTip(ev) {
    const r = tip.getBoundingClientRect();
    let x = ev.clientX + 14, y = ev.clientY + 14;
    if (x + r.width > window.innerWidth - 8) x = Math.max(8, ev.clientX - r.width - 14);
    if (y + r.height > window.innerHeight - 8) y = Math.max(8, ev.clientY - r.height - 14);
    tip.style.left = x + "px"; tip.style.top = y + "px";
  }
  function hideTip() { tip.style.display = "none"; }

  function transformChip(type, subtype) {
    const s = mk("span", "tt " + (type === "INDIRECT" ? "INDIRECT" : "DIRECT"), (type || "DIRECT") + (subtype ? " · " + subtype : ""));
    return s;
  }
  // summary counts a table edge's column transformations.
  function summary(from, to) {
    const m = new Map();
    for (const i of colsByPair.get(pairKey(from, to)) || []) {
      const c = colEdges[i], k = c.type + " · " + c.subtype;
      m.set(k, (m.get(k) || 0) + 1);
    }
    return [...m.entries()].sort((a, b) => b[1] - a[1]);
  }
  function firstSQL(evs) {
    for (const i of evs || []) {
      const v = evidence[i];
      if (v && v.job >= 0 && jobs[v.job].sql) return jobs[v.job].sql;
    }
    return "";
  }
  function evidenceLines(parent, evs, limit) {
    (evs || []).slice(0, limit).forEach((i) => {
      const v = evidence[i];
      if (!v) return;
      parent.appendChild(mk("div", "line o", v.extractor + (v.method ? " · " + v.method : "") + " · " + v.origin));
    });
    if ((evs || []).length > limit) parent.appendChild(mk("div", "line o", "and " + (evs.length - limit) + " more"));
  }
  function edgeTip(e) {
    return (box) => {
      box.appendChild(mk("div", "h", shortName(e.from) + " → " + shortName(e.to)));
      const sum = summary(e.from, e.to);
      if (sum.length) {
        const line = mk("div", "line");
        sum.slice(0, 6).forEach(([k, n]) => {
          const [type, sub] = k.split(" · ");
          line.appendChild(transformChip(type, sub));
          line.appendChild(document.createTextNode(" ×" + n + "  "));
        });
        box.appendChild(line);
      } else box.appendChild(mk("div", "line o", "table-level lineage: no column edges known"));
      evidenceLines(box, e.ev, 3);
      const sql = firstSQL(e.ev);
      if (sql) box.appendChild(mk("pre", "", clip(sql, 700)));
    };
  }
  function colEdgeTip(c) {
    return (box) => {
      box.appendChild(mk("div", "h", shortName(c.from) + "." + c.fromColumn + " → " + shortName(c.to) + "." + (c.toColumn || "*")));
      const line = mk("div", "line");
      line.appendChild(transformChip(c.type, c.subtype));
      box.appendChild(line);
      evidenceLines(box, c.ev, 3);
      const sql = firstSQL(c.ev);
      if (sql) box.appendChild(mk("pre", "", clip(sql, 700)));
    };
  }

  // Drawing.
  function render() {
    const start = performance.now();
    hideTip();
    const edgesG = el("edges"), nodesG = el("nodes"), empty = el("empty");
    edgesG.textContent = ""; nodesG.textContent = "";
    const { role, cut } = visible();
    if (role.size === 0) {
      drawn = { width: 0, height: 0, pos: new Map() };
      showEmpty();
      el("status").textContent = ds.length.toLocaleString("en") + " datasets";
      finish(start);
      return;
    }
    empty.style.display = "none";
    const tr = state.trace;
    if (tr) for (const n of tr.datasets) if (role.has(n)) state.expanded.add(n);
    const layer = layers(role);
    drawn = place(layer);
    const pos = drawn.pos;
    let shown = 0;
    const edgeClass = (from, to) => {
      const rf = role.get(from), rt = role.get(to);
      if (rt === "focus" || (rf === "up" && rt === "up")) return "up";
      if (rf === "focus" || (rf === "down" && rt === "down")) return "down";
      return "";
    };
    for (let i = 0; i < edges.length; i++) {
      const e = edges[i];
      const a = pos.get(e.from), b = pos.get(e.to);
      if (!a || !b || e.from === e.to) continue;
      const pair = colsByPair.get(pairKey(e.from, e.to)) || [];
      if (pair.length && expanded(e.from) && expanded(e.to)) continue; // drawn per column below
      const indirect = pair.length > 0 && pair.every((ci) => colEdges[ci].type === "INDIRECT");
      let cls = edgeClass(e.from, e.to);
      if (tr) cls = "dim";
      drawEdge(edgesG, a.x + W, a.y + HEAD / 2, b.x, b.y + HEAD / 2, cls + (indirect ? " indirect" : ""), edgeTip(e), () => showEdge(e), i, "e");
      shown++;
    }
    for (let i = 0; i < colEdges.length; i++) {
      const c = colEdges[i];
      if (!expanded(c.from) || !expanded(c.to) || c.from === c.to) continue;
      const a = pos.get(c.from), b = pos.get(c.to);
      if (!a || !b) continue;
      const ya = a.y + colY(c.from, c.fromColumn), yb = c.toColumn === "" ? b.y + HEAD / 2 : b.y + colY(c.to, c.toColumn);
      if (ya === null || yb === null) continue;
      let cls = "col " + edgeClass(c.from, c.to);
      if (tr) cls = "col " + (tr.edges.has(i) ? "traced" : "dim");
      drawEdge(edgesG, a.x + W, ya, b.x, yb, cls + (c.type === "INDIRECT" ? " indirect" : ""), colEdgeTip(c), () => showColEdge(c), i, "c");
      shown++;
    }
    for (const [n, p] of pos) drawNode(nodesG, n, p, role.get(n));
    squeeze(nodesG);
    const hidden = cut ? " · more within depth: focus further out" : "";
    el("status").textContent = pos.size + " of " + ds.length.toLocaleString("en") + " datasets · " + shown + " edges" + hidden;
    finish(start);
  }
  // squeeze narrows labels wider than their box: all lengths are read
  // first, then written, so the browser lays out once.
  function squeeze(root) {
    const texts = [...root.querySelectorAll("text.name, text.sub, .col text.cn")];
    const max = (t) => t.classList.contains("name") ? W - 48 : t.classList.contains("cn") ? W - 100 : W - 22;
    const long = texts.filter((t) => t.getComputedTextLength() > max(t));
    for (const t of long) { t.setAttribute("textLength", max(t)); t.setAttribute("lengthAdjust", "spacingAndGlyphs"); }
  }
  function finish(start) {
    document.body.setAttribute("data-render-ms", (performance.now() - start).toFixed(1));
    document.body.setAttribute("data-drawn", String(drawn.pos.size));
  }

  function colY(n, name) {
    const s = shownCols(n), i = s.cols.indexOf(name);
    if (i < 0) return s.more ? HEAD + ROW * s.cols.length + ROW / 2 : null;
    return HEAD + ROW * i + ROW / 2;
  }

  function drawEdge(parent, x1, y1, x2, y2, cls, tipBuild, onClick, i, kind) {
    const dx = Math.max(40, (x2 - x1) / 2);
    const d = "M" + x1 + "," + y1 + " C" + (x1 + dx) + "," + y1 + " " + (x2 - dx) + "," + y2 + " " + x2 + "," + y2;
    const g = sv("g", { "class": kind === "e" && colsByPair.has(pairKey(edges[i].from, edges[i].to)) ? "e cols" : "e" });
    const hit = sv("path", { d, "class": "hit" });
    const path = sv("path", { d, "class": "edge " + cls });
    const m = cls.includes("traced") ? "arrow-traced" : cls.includes("up") ? "arrow-up" : cls.includes("down") ? "arrow-down" : "arrow";
    path.setAttribute("marker-end", "url(#" + m + ")");
    hit.addEventListener("mouseenter", (ev) => showTip(ev, tipBuild));
    hit.addEventListener("mousemove", moveTip);
    hit.addEventListener("mouseleave", hideTip);
    hit.addEventListener("click", onClick);
    g.appendChild(path);
    g.appendChild(hit);
    parent.appendChild(g);
  }

  function hiddenCount(n, adj, end, pos) {
    let k = 0;
    for (const ei of adj[n]) if (!pos.has(edges[ei][end])) k++;
    return k;
  }

  function drawNode(parent, n, p, role) {
    const g = sv("g", { "class": "node" + (role ? " " + role : ""), "transform": "translate(" + p.x + "," + p.y + ")", "data-i": n });
    if (state.trace && !state.trace.datasets.has(n) && n !== state.focus) g.classList.add("dim");
    const rect = sv("rect", { "class": "box", width: W, height: p.h, rx: 7, filter: "url(#shadow)" });
    rect.addEventListener("click", () => focusOn(n));
    rect.addEventListener("mouseenter", (ev) => showTip(ev, (box) => {
      box.appendChild(mk("div", "h", full(n)));
      box.appendChild(mk("div", "line o", ds[n].platform + (ds[n].kind ? " · " + ds[n].kind : "") + " · " + colNames[n].length + " columns"));
      if (ds[n].description) box.appendChild(mk("div", "line", clip(ds[n].description, 300)));
    }));
    rect.addEventListener("mousemove", moveTip);
    rect.addEventListener("mouseleave", hideTip);
    g.appendChild(rect);
    const stripe = sv("rect", { "class": "tint", x: 0, y: 0, width: 6, height: p.h, rx: 3 });
    stripe.setAttribute("fill", colour(n));
    g.appendChild(stripe);
    const tint = sv("rect", { "class": "tint", x: 6, y: 0.5, width: W - 6.5, height: HEAD - 1, opacity: 0.1 });
    tint.setAttribute("fill", colour(n));
    g.appendChild(tint);
    const name = sv("text", { "class": "name", x: 14, y: 18 });
    name.textContent = clip(shortName(n), 40);
    g.appendChild(name);
    const sub = sv("text", { "class": "sub", x: 14, y: 33 });
    sub.textContent = clip(prefix(n), 40) + (ds[n].kind ? " · " + ds[n].kind : "");
    g.appendChild(sub);
    if (colNames[n].length) {
      const t = sv("g", { "class": "toggle", transform: "translate(" + (W - 26) + ",11)" });
      t.appendChild(sv("rect", { width: 18, height: 18, rx: 4 }));
      const tx = sv("text", { x: 9, y: 13.5 });
      tx.textContent = expanded(n) ? "−" : "+";
      t.appendChild(tx);
      const title = sv("title", {});
      title.textContent = (expanded(n) ? "hide " : "show ") + colNames[n].length + " columns";
      t.appendChild(title);
      t.addEventListener("click", (ev) => {
        ev.stopPropagation();
        if (expanded(n)) { state.expanded.delete(n); if (state.allCols) { state.allCols = false; el("cols").setAttribute("aria-pressed", "false"); } }
        else state.expanded.add(n);
        render();
      });
      g.appendChild(t);
    }
    // Neighbours not drawn: a badge on each side focuses further out.
    const hu = hiddenCount(n, up, "from", drawn.pos), hd = hiddenCount(n, down, "to", drawn.pos);
    if (hu) g.appendChild(moreBadge(-34, "+" + hu, hu + " more upstream: focus here", n));
    if (hd) g.appendChild(moreBadge(W + 4, "+" + hd, hd + " more downstream: focus here", n));
    if (expanded(n) && colNames[n].length) {
      const s = shownCols(n);
      s.cols.forEach((c, i) => {
        const row = sv("g", { "class": "col", transform: "translate(0," + (HEAD + ROW * i) + ")" });
        const key = colKey(n, c);
        if (state.trace && state.trace.cols.has(key)) row.classList.add("traced");
        if (state.col && state.col.n === n && state.col.name === c) row.classList.add("sel");
        row.appendChild(sv("rect", { x: 6, y: 0, width: W - 7, height: ROW }));
        const name = sv("text", { "class": "cn", x: 14, y: 13 });
        name.textContent = clip(c, 40);
        row.appendChild(name);
        const col = (ds[n].columns || []).find((x) => x.name === c);
        if (col && col.type) {
          const ty = sv("text", { "class": "ct", x: W - 8, y: 13 });
          ty.textContent = clip(col.type, 14);
          row.appendChild(ty);
        }
        row.addEventListener("click", (ev) => { ev.stopPropagation(); selectColumn(n, c); });
        g.appendChild(row);
      });
      if (s.more) {
        const t = sv("text", { "class": "sub", x: 14, y: HEAD + ROW * s.cols.length + 13 });
        t.textContent = "… " + s.more + " more (see details)";
        g.appendChild(t);
      }
      g.appendChild(sv("line", { x1: 6, x2: W, y1: HEAD, y2: HEAD, stroke: "#e5e7eb" }));
    }
    parent.appendChild(g);
  }
  function moreBadge(x, label, title, n) {
    const b = sv("g", { "class": "more", transform: "translate(" + x + "," + (HEAD / 2 - 9) + ")" });
    b.appendChild(sv("rect", { width: 30, height: 18, rx: 9 }));
    const t = sv("text", { x: 15, y: 12.5 });
    t.textContent = label;
    b.appendChild(t);
    const tt = sv("title", {});
    tt.textContent = title;
    b.appendChild(tt);
    b.addEventListener("click", (ev) => { ev.stopPropagation(); focusOn(n); });
    return b;
  }

  // Side panel.
  const details = el("details");
  function panel(heading, sub) {
    details.textContent = "";
    details.style.display = "block";
    const close = mk("button", "close", "×");
    close.title = "close";
    close.addEventListener("click", () => { details.style.display = "none"; fit(state.focus); });
    details.appendChild(close);
    details.appendChild(mk("h2", "", heading));
    if (sub) details.appendChild(mk("div", "sub", sub));
    return details;
  }
  function linkItem(n, extra) {
    const li = mk("li");
    const a = mk("span", "link", ds[n].name);
    a.title = full(n);
    a.addEventListener("click", () => focusOn(n));
    const dot = mk("span", "dot");
    dot.style.background = colour(n);
    li.appendChild(dot);
    li.appendChild(document.createTextNode(" "));
    li.appendChild(a);
    if (extra) li.appendChild(mk("span", "sub", " " + extra));
    return li;
  }
  function platformChip(n) {
    const c = mk("span", "chip platform", ds[n].platform);
    c.style.background = colour(n);
    return c;
  }
  function showDataset(n) {
    const d = ds[n];
    const p = panel(d.name, d.ns);
    p.setAttribute("data-dataset", full(n));
    p.appendChild(platformChip(n));
    if (d.kind) p.appendChild(mk("span", "chip", d.kind));
    if (d.description) p.appendChild(mk("p", "", d.description));
    for (const [title, adj, end] of [["Upstream", up, "from"], ["Downstream", down, "to"]]) {
      const list = adj[n];
      p.appendChild(mk("h3", "", title + " (" + list.length + ")"));
      const ul = mk("ul");
      list.slice(0, 100).forEach((ei) => ul.appendChild(linkItem(edges[ei][end])));
      if (list.length > 100) ul.appendChild(mk("li", "sub", "and " + (list.length - 100) + " more"));
      p.appendChild(ul);
    }
    if (colNames[n].length) {
      p.appendChild(mk("h3", "", "Columns (" + colNames[n].length + ")"));
      const table = mk("table");
      const types = new Map((d.columns || []).map((c) => [c.name, c]));
      for (const c of colNames[n]) {
        const tr = mk("tr");
        const name = mk("td", "link", c);
        name.addEventListener("click", () => selectColumn(n, c));
        const info = types.get(c);
        if (info && info.description) name.title = info.description;
        tr.appendChild(name);
        tr.appendChild(mk("td", "t", info && info.type ? info.type : ""));
        table.appendChild(tr);
      }
      p.appendChild(table);
    }
    const props = Object.keys(d.props || {}).sort();
    if (props.length) {
      p.appendChild(mk("h3", "", "Properties"));
      const table = mk("table");
      for (const k of props) {
        const tr = mk("tr");
        tr.appendChild(mk("td", "t", k));
        tr.appendChild(mk("td", "", d.props[k]));
        table.appendChild(tr);
      }
      p.appendChild(table);
    }
  }
  function evidenceBlock(p, evs) {
    p.appendChild(mk("h3", "", "Evidence"));
    for (const i of evs || []) {
      const v = evidence[i];
      if (!v) continue;
      const box = mk("div", "ev");
      box.appendChild(mk("div", "", v.extractor + (v.method ? " · " + v.method : "")));
      box.appendChild(mk("div", "sub", v.origin));
      if (v.job >= 0) {
        const j = jobs[v.job];
        box.appendChild(mk("div", "sub", "job " + j.id + (j.type ? " (" + j.type + ")" : "")));
        if (j.sql) box.appendChild(mk("pre", "", j.sql));
      }
      p.appendChild(box);
    }
  }
  function showEdge(e) {
    const p = panel(shortName(e.from) + " → " + shortName(e.to), full(e.from) + " → " + full(e.to));
    const sum = summary(e.from, e.to);
    if (sum.length) {
      p.appendChild(mk("h3", "", "Column transformations"));
      const table = mk("table");
      for (const i of colsByPair.get(pairKey(e.from, e.to)) || []) {
        const c = colEdges[i], tr = mk("tr");
        tr.appendChild(mk("td", "", c.fromColumn + " → " + (c.toColumn || "*")));
        const td = mk("td", "t");
        td.appendChild(transformChip(c.type, c.subtype));
        tr.appendChild(td);
        table.appendChild(tr);
      }
      p.appendChild(table);
    }
    evidenceBlock(p, e.ev);
  }
  function showColEdge(c) {
    const p = panel(c.fromColumn + " → " + (c.toColumn || "every column"), full(c.from) + " → " + full(c.to));
    p.appendChild(transformChip(c.type, c.subtype));
    evidenceBlock(p, c.ev);
  }
  function selectColumn(n, name) {
    if (state.col && state.col.n === n && state.col.name === name) {
      state.col = null; state.trace = null;
      showDataset(n);
      render();
      return;
    }
    state.col = { n, name };
    state.trace = trace(n, name);
    const p = panel(name, full(n));
    p.setAttribute("data-column", full(n) + "." + name);
    const info = (ds[n].columns || []).find((c) => c.name === name);
    if (info && info.type) p.appendChild(mk("span", "chip", info.type));
    if (info && info.description) p.appendChild(mk("p", "", info.description));
    for (const [title, list, isUp] of [["Comes from", (colUp.get(colKey(n, name)) || []).concat(wholeUp.get(n) || []), true], ["Feeds", colDown.get(colKey(n, name)) || [], false]]) {
      p.appendChild(mk("h3", "", title + " (" + list.length + ")"));
      const ul = mk("ul");
      for (const i of list.slice(0, 200)) {
        const c = colEdges[i], m = isUp ? c.from : c.to;
        const li = mk("li");
        const a = mk("span", "link", shortName(m) + "." + ((isUp ? c.fromColumn : c.toColumn) || "*"));
        a.title = full(m);
        a.addEventListener("click", () => focusOn(m));
        li.appendChild(a);
        li.appendChild(document.createTextNode(" "));
        li.appendChild(transformChip(c.type, c.subtype));
        ul.appendChild(li);
      }
      p.appendChild(ul);
    }
    p.appendChild(mk("div", "sub", "Click the column again to clear the trace."));
    render();
  }

  function showEmpty() {
    const empty = el("empty");
    empty.textContent = "";
    empty.style.display = "block";
    empty.appendChild(mk("h2", "", ds.length.toLocaleString("en") + " datasets"));
    empty.appendChild(mk("p", "", "Search for a dataset to see its lineage" + (ds.length > MAX_ALL ? "." : ", or show the whole graph.") + " The most connected:"));
    const deg = ds.map((_, i) => i).sort((a, b) => (up[b].length + down[b].length) - (up[a].length + down[a].length) || a - b).slice(0, 15);
    for (const n of deg) empty.appendChild(resultItem(n, () => focusOn(n)));
  }
  function resultItem(n, onPick) {
    const div = mk("div", "item");
    const dot = mk("span", "dot");
    dot.style.background = colour(n);
    div.appendChild(dot);
    div.appendChild(mk("span", "n", ds[n].name));
    div.appendChild(mk("span", "ns", ds[n].ns + " · " + ds[n].platform + " · " + (up[n].length + down[n].length) + " edges"));
    div.addEventListener("mousedown", (ev) => { ev.preventDefault(); onPick(); });
    return div;
  }

  function focusOn(n) {
    state.focus = n;
    state.whole = false;
    if (state.col && state.col.n !== n) { state.col = null; state.trace = null; }
    showDataset(n);
    render();
    fit(n);
  }

  // Search: case-insensitive substring over namespace/name, best first.
  const search = el("search"), results = el("results");
  let matches = [], active = 0;
  function showResults() {
    const q = search.value.trim().toLowerCase();
    results.textContent = "";
    matches = [];
    if (!q) { results.style.display = "none"; return; }
    const score = [];
    for (let i = 0; i < ds.length; i++) {
      if (!lower[i].includes(q)) continue;
      const nm = lowerName[i], short = nm.slice(nm.lastIndexOf(".") + 1);
      score.push([short === q ? 0 : nm === q ? 1 : short.startsWith(q) ? 2 : nm.includes(q) ? 3 : 4, i]);
    }
    score.sort((a, b) => a[0] - b[0] || ds[a[1]].name.length - ds[b[1]].name.length || ds[a[1]].name.localeCompare(ds[b[1]].name));
    matches = score.slice(0, 50).map((s) => s[1]);
    active = 0;
    matches.forEach((n, k) => {
      const item = resultItem(n, () => pick(n));
      if (k === 0) item.classList.add("active");
      results.appendChild(item);
    });
    if (score.length > matches.length) results.appendChild(mk("div", "item ns", (score.length - matches.length) + " more: type more"));
    if (!score.length) results.appendChild(mk("div", "item ns", "no dataset matches"));
    results.style.display = "block";
  }
  function pick(n) { results.style.display = "none"; search.value = ds[n].name; search.blur(); focusOn(n); }
  search.addEventListener("input", showResults);
  search.addEventListener("focus", () => { search.select(); });
  search.addEventListener("keydown", (ev) => {
    if (ev.key === "Enter" && matches.length) pick(matches[active]);
    if (ev.key === "ArrowDown" || ev.key === "ArrowUp") {
      ev.preventDefault();
      if (!matches.length) return;
      active = (active + (ev.key === "ArrowDown" ? 1 : matches.length - 1)) % matches.length;
      [...results.children].forEach((c, k) => { c.classList.toggle("active", k === active); });
    }
    if (ev.key === "Escape") { results.style.display = "none"; search.blur(); }
  });
  search.addEventListener("blur", () => { results.style.display = "none"; });
  document.addEventListener("keydown", (ev) => {
    if (ev.key === "/" && document.activeElement !== search) { ev.preventDefault(); search.focus(); }
  });
  depthSel.addEventListener("change", () => { state.depth = Number(depthSel.value); render(); fit(state.focus); });
  el("cols").addEventListener("click", () => {
    state.allCols = !state.allCols;
    if (!state.allCols) state.expanded.clear();
    el("cols").setAttribute("aria-pressed", String(state.allCols));
    render();
    fit(state.focus);
  });
  const allBtn = el("all");
  if (ds.length > MAX_ALL) { allBtn.disabled = true; allBtn.title = ds.length + " datasets: too many to draw at once; focus on one"; }
  allBtn.addEventListener("click", () => {
    state.focus = -1; state.whole = true; state.col = null; state.trace = null;
    details.style.display = "none";
    render(); fit();
  });
  el("fit").addEventListener("click", () => fit(state.focus));
  window.addEventListener("resize", () => fit(state.focus));

  if (state.focus < 0 && ds.length <= MAX_ALL) state.whole = true;
  if (state.focus >= 0) focusOn(state.focus); else { render(); fit(); }
  document.body.setAttribute("data-init-ms", (performance.now() - t0).toFixed(1));
  document.body.setAttribute("data-ready", "1");
})();
