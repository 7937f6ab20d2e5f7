// The cluster explorer: Cytoscape.js (from npm, served by /static) over the cluster's JSON
// twin, which holds only the members and links the viewer may see. A node's neighbours are
// added from /graph/neighbours without a reload; the view (after filters and expansions) is
// saved as PNG or exported as STIX 2.1 by /graph/stix, which checks every node again.
// Loaded as a file: the Content-Security-Policy forbids inline scripts. Every text shown is
// set with textContent (never parsed as HTML); the page's translations come in data-*.
(function () {
  "use strict";
  // Force-directed (cose) for small views: ~0.5 s at 150 nodes on a busy 2-core machine,
  // 15 s at 1,000. Larger clusters come with the server's positions (each hub's neighbours
  // on a sunflower around it, computed in one pass): drawn as given, no layout to run.
  // Without positions (never sent above 150 nodes today), rings by degree. bench/web_graph.py
  var COSE_MAX = 150;
  var LARGE = 2000; // elements above which labels go and the viewport uses a texture

  function el(id) { return document.getElementById(id); }

  function say(text) {
    var status = el("graph-status");
    if (status) { status.textContent = text; }
  }

  function fill(template, values) {
    return String(template || "").replace(/\{(\w+)\}/g, function (_m, key) {
      return values[key] === undefined ? "" : String(values[key]);
    });
  }

  function layoutFor(count, placed) {
    if (placed) { return { name: "preset", animate: false, fit: true }; }
    if (count <= COSE_MAX) { return { name: "cose", animate: false, randomize: false }; }
    return {
      name: "concentric", animate: false, avoidOverlap: false, minNodeSpacing: 4,
      concentric: function (node) { return node.degree(false); },
      levelWidth: function () { return 1; }
    };
  }

  function observablePath(id) {
    var at = id.indexOf(":");
    return "/observables/" + id.slice(0, at) + "/" + encodeURIComponent(id.slice(at + 1));
  }

  function cell(row, text) {
    var td = document.createElement("td");
    td.textContent = text === null || text === undefined ? "—" : String(text);
    row.appendChild(td);
  }

  function start(box, data) {
    var large = data.elements.length > LARGE;
    var cy = cytoscape({
      container: box,
      elements: data.elements,
      textureOnViewport: large,
      hideEdgesOnViewport: large,
      motionBlur: false,
      pixelRatio: large ? 1 : "auto",
      style: [
        { selector: "node", style: { "label": large ? "" : "data(label)", "font-size": 9,
          "width": 12, "height": 12, "background-color": "#0b5cad" } },
        { selector: "node[kind = 'ipv4'], node[kind = 'ipv6']", style: { "background-color": "#b3261e" } },
        { selector: "node[kind = 'url']", style: { "background-color": "#5a6272" } },
        { selector: "node[?added]", style: { "border-width": 2, "border-color": "#ff9f1c" } },
        { selector: "edge", style: { "width": 1, "line-color": "#9aa3b2", "curve-style": "haystack" } },
        { selector: "edge[label = 'url-host']", style: { "line-style": "dashed" } },
        // hidden by the filter: not drawn, not tappable; unlike display: none, no bounds to
        // recompute for the link and its ends (~15% less work per toggle, bench/web_graph.py)
        { selector: ".off", style: { "visibility": "hidden" } },
        { selector: ":selected", style: { "background-color": "#ff9f1c", "line-color": "#ff9f1c" } }
      ],
      layout: layoutFor(data.elements.length - countEdges(data.elements),
                        data.elements.some(function (e) { return e.position; }))
    });
    var only = el("edge-type");
    var detail = el("graph-detail");
    var selected = null;

    function countEdges(elements) {
      var n = 0;
      for (var i = 0; i < elements.length; i++) { if (elements[i].data.source) { n++; } }
      return n;
    }

    // The edge type the filter lets through ("" = every type). A class toggle restyles each
    // edge it touches, so only those whose state changes are touched, in one batch. The
    // frame after any change is the floor: Cytoscape's canvas keeps the whole view in one
    // cached layer, so it draws every element one by one once (~0.3 s at 5,000 nodes on a
    // software canvas; its WebGL renderer was slower on SwiftShader: docs/benchmarks.md).
    var shownType = "";

    function hides(edge) { return shownType !== "" && edge.data("label") !== shownType; }

    function filter() {
      var kind = only ? only.value : "";
      if (kind === shownType) { return; }
      shownType = kind;
      var off = [];
      var on = [];
      cy.edges().forEach(function (e) {
        var hide = hides(e);
        if (hide !== e.hasClass("off")) { (hide ? off : on).push(e); }
      });
      cy.batch(function () {
        cy.collection(on).removeClass("off");
        cy.collection(off).addClass("off");
      });
    }

    function knowTypes(elements) {
      if (!only) { return; }
      var known = {};
      for (var i = 0; i < only.options.length; i++) { known[only.options[i].value] = true; }
      elements.forEach(function (e) {
        var label = e.data.source ? e.data.label : null;
        if (label && !known[label]) {
          known[label] = true;
          var option = document.createElement("option");
          option.value = label;
          option.textContent = label;
          only.appendChild(option);
        }
      });
    }

    function showNode(node) {
      var id = node.id();
      var isObservable = id.indexOf(":") > 0 && id.indexOf("--") < 0;
      el("detail-edge").hidden = true;
      el("detail-node").hidden = false;
      el("detail-node-kind").textContent = node.data("kind");
      var link = el("detail-node-link");
      link.textContent = node.data("label");
      if (isObservable) { link.href = observablePath(id); } else { link.removeAttribute("href"); }
      var body = el("detail-node-evidence").tBodies[0];
      body.textContent = "";
      el("detail-node-evidence").hidden = !isObservable;
      if (!isObservable) { return; }
      fetch(observablePath(id) + "?format=json", { credentials: "same-origin", headers: { "Accept": "application/json" } })
        .then(function (r) { return r.ok ? r.json() : { assertions: [] }; })
        .then(function (found) {
          if (selected !== id) { return; }
          found.assertions.forEach(function (a) {
            var row = document.createElement("tr");
            var head = document.createElement("th");
            head.scope = "row";
            head.textContent = a.source;
            row.appendChild(head);
            cell(row, a.threat_type);
            cell(row, a.tlp_label);
            cell(row, a.last_seen ? String(a.last_seen).slice(0, 10) : null);
            body.appendChild(row);
          });
          if (!found.assertions.length) {
            var none = document.createElement("tr");
            cell(none, detail.dataset.none);
            none.firstChild.colSpan = 4;
            body.appendChild(none);
          }
        });
    }

    function showEdge(edge) {
      el("detail-node").hidden = true;
      el("detail-edge").hidden = false;
      el("detail-edge-source").textContent = edge.data("source");
      el("detail-edge-type").textContent = edge.data("label");
      el("detail-edge-target").textContent = edge.data("target");
      el("detail-edge-reporter").textContent = edge.data("reported_by") || detail.dataset.derived;
      el("detail-edge-tlp").textContent = edge.data("tlp") ? "TLP:" + edge.data("tlp").toUpperCase() : "—";
    }

    function select(target) {
      selected = target.id();
      detail.hidden = false;
      if (target.isNode()) { showNode(target); } else { showEdge(target); }
    }

    function expand(id) {
      var centre = cy.getElementById(id);
      if (!centre.length) { return Promise.resolve(null); }
      say(box.dataset.loading);
      var url = box.dataset.neighbours + "?node=" + encodeURIComponent(id);
      return fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
        .then(function (r) { if (!r.ok) { throw new Error(r.status); } return r.json(); })
        .then(function (found) {
          var fresh = found.elements.filter(function (e) { return !cy.getElementById(e.data.id).length; });
          var at = centre.position();
          var k = 0;
          cy.batch(function () { // one restyle and one frame for the lot
            fresh.forEach(function (e) {
              if (!e.data.source) { // phyllotaxis: rings around the node, no global layout
                k++;
                var r = 24 * Math.sqrt(k);
                e.position = { x: at.x + r * Math.cos(k * 2.39996), y: at.y + r * Math.sin(k * 2.39996) };
                e.data.added = true;
              }
            });
            cy.add(fresh).edges().filter(hides).addClass("off"); // the filter applies to the new links only
          });
          knowTypes(fresh);
          var text = found.more ? box.dataset.more : box.dataset.added;
          say(fill(text, { shown: k, more: found.more }));
          return found;
        })
        .catch(function () { say(box.dataset.failed); return null; });
    }

    function exportStix() {
      var nodes = cy.nodes().map(function (n) { return n.id(); });
      var view = { nodes: nodes, edge_types: only && only.value ? [only.value] : null };
      return fetch(box.dataset.stix, {
        method: "POST", credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-CSRF-Token": box.dataset.csrf },
        body: JSON.stringify(view)
      })
        .then(function (r) { if (!r.ok) { throw new Error(r.status); } return r.blob(); })
        .then(function (blob) {
          var link = document.createElement("a");
          link.href = URL.createObjectURL(blob);
          link.download = box.dataset.name + ".stix.json";
          document.body.appendChild(link);
          link.click();
          link.remove();
          setTimeout(function () { URL.revokeObjectURL(link.href); }, 10000);
        })
        .catch(function () { say(box.dataset.failed); });
    }

    cy.on("tap", "node, edge", function (event) { select(event.target); });
    cy.on("dbltap", "node", function (event) { expand(event.target.id()); });
    knowTypes(data.elements);
    if (only) { only.addEventListener("change", filter); filter(); } // a type the browser kept
    var grow = el("graph-expand");
    if (grow) { grow.addEventListener("click", function () { if (selected) { expand(selected); } }); }
    var png = el("graph-png");
    if (png) {
      png.hidden = false;
      png.addEventListener("click", function () {
        var link = document.createElement("a");
        link.href = cy.png({ full: true, bg: "#ffffff" });
        link.download = box.dataset.name + ".png";
        link.click();
      });
    }
    var stix = el("graph-stix");
    if (stix) { stix.hidden = false; stix.addEventListener("click", exportStix); }
    if (data.truncated) { say(fill(box.dataset.truncated, { size: data.size, shown: cy.nodes().length })); }
    cy.one("render", function () {
      box.dataset.readyMs = String(Math.round(performance.now()));
      box.dataset.state = "ready";
    });
    window.marsadGraph = { cy: cy, expand: expand, exportStix: exportStix, filter: filter, layoutFor: layoutFor };
  }

  document.addEventListener("DOMContentLoaded", function () {
    var box = el("graph");
    if (!box || typeof cytoscape !== "function") { return; }
    fetch(box.dataset.src, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (r) { if (!r.ok) { throw new Error(r.status); } return r.json(); })
      .then(function (data) { start(box, data); })
      .catch(function () { say(box.dataset.failed); });
  });
}());
