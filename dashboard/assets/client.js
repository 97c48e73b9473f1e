// Client-side helpers of the dashboard: the address bar writer and the chart pointer.

// Writes a page's filters into the address bar so a copied URL opens the same view.
// Each writer owns some query keys and keeps the others (the global filters and a page's
// own filters share the query). replaceState, unlike dcc.Location, renders nothing again.
window.dash_clientside = Object.assign({}, window.dash_clientside, {
  gatewatch: {
    writeQuery: function (state) {
      if (!state) {
        return window.dash_clientside.no_update;
      }
      const params = new URLSearchParams(window.location.search);
      state.keys.forEach((key) => params.delete(key));
      new URLSearchParams(state.query).forEach((value, key) => params.append(key, value));
      const search = params.toString();
      const url = window.location.pathname + (search ? "?" + search : "") + window.location.hash;
      window.history.replaceState(window.history.state, "", url);
      return search;
    },
  },
});

// Where a chart was clicked: with a unified hover, a click reports the points of every series
// at that x, and the pointer tells which one was meant (see dashboard/drilldown.py).
document.addEventListener(
  "pointerdown",
  (event) => {
    const setProps = window.dash_clientside && window.dash_clientside.set_props;
    if (setProps && event.target.closest && event.target.closest(".js-plotly-plot")) {
      setProps("chart-pointer", { data: { x: event.clientX, y: event.clientY } });
    }
  },
  true,
);
