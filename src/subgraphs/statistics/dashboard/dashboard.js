/* The statistics dashboard: plain browser JavaScript, no build step. It uses only the public
 * GraphQL API with the token the user pastes, kept in sessionStorage (this tab only). */
'use strict';

(function () {
  const TOKEN_KEY = 'hub.dashboard.token';
  const RISK_LEVELS = ['RED', 'ORANGE', 'YELLOW', 'BLUE', 'UNASSESSED'];
  const RISK_COLOURS = { RED: '#d62728', ORANGE: '#ff7f0e', YELLOW: '#e6c200', BLUE: '#1f77b4', UNASSESSED: '#9e9e9e' };
  const SERIES_COLOURS = { NEW_CASES: '#6a3d9a', ASSESSMENTS: '#e31a1c', VISITS: '#33a02c', REPORTS: '#ff7f00', REFERRALS: '#1f78b4' };
  const LEVEL_DEPTH = { DISTRICT: 0, STREET: 1, COMMUNITY: 2, GRID: 3 };

  const $ = (id) => document.getElementById(id);
  const charts = {};
  // For tests and for anyone inspecting the page: what was drawn, from which answer.
  window.dashboard = { charts, data: null };

  /**
   * With `refusable`, a field the caller's role may not read (null, FORBIDDEN on its path: visit
   * statistics for a dashboard or a school) is left null and the rest drawn; any other error fails.
   */
  async function gql(token, query, variables, refusable, attempts = 3) {
    const res = await fetch('/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer ' + token },
      body: JSON.stringify({ query, variables }),
    });
    const body = await res.json();
    if (res.status === 401) {
      const refused = new Error('The token was not accepted: ' + ((body.errors && body.errors[0] && body.errors[0].message) || res.status));
      refused.unauthenticated = true;
      throw refused;
    }
    // A refresh committed between two of the page's tables: asked again, the page is of one refresh.
    if (attempts > 1 && (body.errors || []).some((e) => e.extensions && e.extensions.code === 'STATISTICS_REFRESHED')) return gql(token, query, variables, refusable, attempts - 1);
    const failed = (body.errors || []).filter((e) => !(refusable && e.path && e.extensions && e.extensions.code === 'FORBIDDEN'));
    if (failed.length || !body.data) throw new Error(failed.map((e) => e.message).join('; ') || 'No answer');
    return body.data;
  }

  const CELL = 'value suppressed display';
  const REFUSED = 'Not available to your role: counted from children’s visits, which it may not read';
  const DASHBOARD_QUERY = `
    query Dashboard($breakdown: RegionLevel!, $own: RegionLevel!) {
      statisticsFreshness { refreshedAt refreshIntervalSeconds stale }
      riskByRegion: minorCounts(level: $breakdown, by: [RISK_LEVEL]) { cells { regionCode regionName riskLevel count { ${CELL} } } }
      regionTotals: minorCounts(level: $breakdown) { cells { regionCode count { ${CELL} } } }
      riskTotals: minorCounts(level: $own, by: [RISK_LEVEL]) { cells { riskLevel count { ${CELL} } } total { ${CELL} } }
      categories: minorCounts(level: $own, by: [CATEGORY]) { categoriesFolded cells { category count { ${CELL} } } }
      overdue: minorCounts(level: $breakdown, by: [RISK_LEVEL], measure: OVERDUE_VISITS) { cells { regionCode regionName riskLevel count { ${CELL} } } }
      rates: statisticsRates(level: $breakdown) {
        regions { regionCode regionName screening { display } intervention { display } assistance { display } reportsHandledInTime { display } referralsHandledInTime { display } }
        total { regionName screening { display } intervention { display } assistance { display } reportsHandledInTime { display } referralsHandledInTime { display } }
      }
      trend: monthlyTrend(months: 12) { points { month series count { ${CELL} } } }
    }`;

  /** Suppressed cells have no value: the chart leaves a gap and the tooltip says "<k". */
  const valueOf = (cell) => (cell.suppressed ? null : cell.value);
  const unique = (xs) => [...new Set(xs)];

  function draw(id, config) {
    if (charts[id]) charts[id].destroy();
    charts[id] = new Chart($(id), config);
  }

  function displayTooltip(lookup) {
    return { callbacks: { label: (item) => `${item.dataset.label}: ${lookup(item)}` } };
  }

  function byRegionChart(id, table, levels) {
    const regions = unique(table.cells.map((c) => c.regionCode));
    const names = regions.map((code) => table.cells.find((c) => c.regionCode === code).regionName);
    const cellAt = (code, level) => table.cells.find((c) => c.regionCode === code && c.riskLevel === level);
    draw(id, {
      type: 'bar',
      data: {
        labels: names,
        datasets: levels.map((level) => ({
          label: level,
          backgroundColor: RISK_COLOURS[level],
          data: regions.map((code) => valueOf(cellAt(code, level).count)),
        })),
      },
      options: {
        animation: false,
        scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true } },
        plugins: { tooltip: displayTooltip((item) => cellAt(regions[item.dataIndex], levels[item.datasetIndex]).count.display) },
      },
    });
  }

  function categoriesChart(table) {
    draw('chart-categories', {
      type: 'bar',
      data: {
        labels: table.cells.map((c) => c.category),
        datasets: [{ label: 'Minors', backgroundColor: '#4c78a8', data: table.cells.map((c) => valueOf(c.count)) }],
      },
      options: {
        animation: false,
        indexAxis: 'y',
        plugins: { legend: { display: false }, tooltip: displayTooltip((item) => table.cells[item.dataIndex].count.display) },
      },
    });
  }

  function trendChart(trend) {
    const months = unique(trend.points.map((p) => p.month));
    const series = unique(trend.points.map((p) => p.series));
    const at = (month, s) => trend.points.find((p) => p.month === month && p.series === s);
    draw('chart-trend', {
      type: 'line',
      data: {
        labels: months,
        datasets: series.map((s) => ({ label: s, borderColor: SERIES_COLOURS[s], data: months.map((m) => valueOf(at(m, s).count)) })),
      },
      options: {
        animation: false,
        spanGaps: false,
        plugins: { tooltip: displayTooltip((item) => at(months[item.dataIndex], series[item.datasetIndex]).count.display) },
      },
    });
  }

  function td(cell, tag) {
    const el = document.createElement(tag || 'td');
    el.textContent = cell.display;
    if (cell.suppressed) {
      el.className = 'suppressed';
      el.title = 'Hidden: too few children to publish, or hidden with such a count so that it cannot be worked out';
    }
    return el;
  }

  function text(tag, content) {
    const el = document.createElement(tag);
    el.textContent = content;
    return el;
  }

  function riskTable(data) {
    const table = $('risk-table');
    const head = document.createElement('tr');
    for (const h of ['Region', ...RISK_LEVELS, 'Total']) head.appendChild(text('th', h));
    table.tHead.replaceChildren(head);
    const body = [];
    for (const code of unique(data.riskByRegion.cells.map((c) => c.regionCode))) {
      const cells = data.riskByRegion.cells.filter((c) => c.regionCode === code);
      const tr = document.createElement('tr');
      tr.dataset.region = code;
      tr.appendChild(text('th', cells[0].regionName));
      for (const level of RISK_LEVELS) {
        const el = td(cells.find((c) => c.riskLevel === level).count);
        el.dataset.risk = level;
        tr.appendChild(el);
      }
      tr.appendChild(td(data.regionTotals.cells.find((c) => c.regionCode === code).count));
      body.push(tr);
    }
    table.tBodies[0].replaceChildren(...body);
    const foot = document.createElement('tr');
    foot.appendChild(text('th', 'Total'));
    for (const level of RISK_LEVELS) foot.appendChild(td(data.riskTotals.cells.find((c) => c.riskLevel === level).count));
    foot.appendChild(td(data.riskTotals.total));
    table.tFoot.replaceChildren(foot);
  }

  function ratesTable(rates) {
    const rows = [...rates.regions, rates.total].map((r, i, all) => {
      const tr = document.createElement('tr');
      tr.appendChild(text('th', i === all.length - 1 ? `${r.regionName} (total)` : r.regionName));
      for (const rate of [r.screening, r.intervention, r.assistance, r.reportsHandledInTime, r.referralsHandledInTime]) {
        const el = text('td', rate ? rate.display : '—');
        if (!rate) {
          el.className = 'refused';
          el.title = REFUSED;
        }
        tr.appendChild(el);
      }
      return tr;
    });
    $('rates-table').tBodies[0].replaceChildren(...rows);
  }

  /**
   * Leaves nothing of what was drawn — in the page, its charts or window.dashboard — for whoever
   * signs in next on this tab: a token then refused (another role, expired) would otherwise show
   * its error above the previous user's figures, and a slow answer would show them while loading.
   */
  function clear() {
    for (const id of Object.keys(charts)) {
      charts[id].destroy();
      delete charts[id];
    }
    window.dashboard.data = null;
    for (const id of ['scope', 'freshness', 'error']) $(id).textContent = '';
    $('error').hidden = true;
    $('overdue-refused').hidden = true;
    $('chart-overdue').hidden = false;
    for (const table of [$('risk-table'), $('rates-table')]) {
      table.tBodies[0].replaceChildren();
      if (table.tFoot) table.tFoot.replaceChildren();
    }
    $('risk-table').tHead.replaceChildren();
  }

  /**
   * Counts sign-ins and sign-outs: a load's answers are drawn only while its sign-in is the
   * current one. Answers of a user who signed out while they were on their way would otherwise be
   * drawn for the next user, or a stale refusal sign them out; and each load asks with the token
   * it started with, never the one pasted since.
   */
  let session = 0;

  async function load() {
    const mine = ++session;
    const current = () => mine === session;
    const token = sessionStorage.getItem(TOKEN_KEY);
    clear();
    document.body.dataset.state = 'loading';
    try {
      const { statisticsScope: scope } = await gql(token, '{ statisticsScope { regionCode regionName level finestLevel suppressionK } }');
      if (!current()) return;
      // Break down one level below the caller's node, but never finer than their role may see: a
      // role whose finest level is the node itself (HUB_STATISTICS_FINEST_LEVELS) sees the node whole.
      if (LEVEL_DEPTH[scope.finestLevel] < LEVEL_DEPTH[scope.level]) throw new Error(`Your role sees no statistics at ${scope.level} (its finest level is ${scope.finestLevel})`);
      const below = LEVEL_DEPTH[scope.level] < LEVEL_DEPTH.STREET ? 'STREET' : scope.level;
      const breakdown = LEVEL_DEPTH[below] > LEVEL_DEPTH[scope.finestLevel] ? scope.finestLevel : below;
      const data = await gql(token, DASHBOARD_QUERY, { breakdown, own: scope.level }, true);
      if (!current()) return;
      window.dashboard.data = data;
      $('scope').textContent = `${scope.regionName} (${scope.regionCode}), by ${breakdown.toLowerCase()}; counts below ${scope.suppressionK} are suppressed`;
      const fresh = data.statisticsFreshness;
      const cadence = fresh.refreshIntervalSeconds > 0 ? `refreshed every ${fresh.refreshIntervalSeconds} s` : 'refreshed by another process';
      $('freshness').textContent = `Figures as of ${new Date(fresh.refreshedAt).toLocaleString()} (${cadence})${fresh.stale ? ' — OUT OF DATE: the refreshes have stopped or are failing' : ''}`;
      byRegionChart('chart-risk', data.riskByRegion, RISK_LEVELS);
      categoriesChart(data.categories);
      $('overdue-refused').hidden = data.overdue !== null;
      $('chart-overdue').hidden = data.overdue === null;
      if (data.overdue) byRegionChart('chart-overdue', data.overdue, unique(data.overdue.cells.map((c) => c.riskLevel)));
      else if (charts['chart-overdue']) {
        charts['chart-overdue'].destroy();
        delete charts['chart-overdue'];
      }
      trendChart(data.trend);
      riskTable(data);
      ratesTable(data.rates);
      document.body.dataset.state = 'ready';
    } catch (e) {
      if (!current()) return;
      if (e.unauthenticated) signOut();
      $('error').textContent = e.message;
      $('error').hidden = false;
      document.body.dataset.state = 'error';
    }
  }

  function show(signedIn) {
    $('sign-in').hidden = signedIn;
    $('dashboard').hidden = !signedIn;
    $('sign-out').hidden = !signedIn;
    if (!signedIn) document.body.dataset.state = 'signed-out';
  }

  function signOut() {
    session++;
    sessionStorage.removeItem(TOKEN_KEY);
    clear();
    show(false);
  }

  $('sign-in-form').addEventListener('submit', (event) => {
    event.preventDefault();
    sessionStorage.setItem(TOKEN_KEY, $('token').value.trim());
    $('token').value = '';
    show(true);
    load();
  });
  $('sign-out').addEventListener('click', signOut);

  if (sessionStorage.getItem(TOKEN_KEY)) {
    show(true);
    load();
  } else {
    show(false);
  }
})();
