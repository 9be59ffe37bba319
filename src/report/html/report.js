// Filters, search and sorting for the linkrot report. Every row is already
// in the HTML; this script only hides and reorders rows. It reads each row
// once at start, then every filter is one pass over plain objects that
// toggles `hidden` only on rows whose visibility changes, and never reads
// layout, so 20,000 rows filter without freezing the page.
(function () {
  'use strict';
  var form = document.getElementById('filters');
  if (!form) return;
  var verdictSel = document.getElementById('f-verdict');
  var docSel = document.getElementById('f-document');
  var hostIn = document.getElementById('f-host');
  var searchIn = document.getElementById('f-search');
  var shownOut = document.getElementById('shown');
  var collator = new Intl.Collator(undefined, { numeric: true, sensitivity: 'base' });

  var docs = [];
  var all = [];
  var sections = document.querySelectorAll('section.document');
  for (var d = 0; d < sections.length; d++) {
    var sec = sections[d];
    var table = sec.querySelector('table.citations');
    var doc = { sec: sec, table: table, recs: [], count: sec.querySelector('.doc-count'), shown: -1, visible: true };
    if (table) {
      var trs = table.tBodies[0].rows;
      for (var i = 0; i < trs.length; i++) {
        var tr = trs[i];
        var cells = tr.cells;
        var text = cells[1].textContent;
        var url = cells[2].textContent;
        var rec = {
          tr: tr,
          doc: d,
          index: i,
          verdict: tr.getAttribute('data-v'),
          order: +tr.getAttribute('data-o'),
          failing: tr.hasAttribute('data-failing'),
          host: tr.getAttribute('data-h') || '',
          status: +tr.getAttribute('data-s'),
          redirects: +tr.getAttribute('data-r'),
          text: text,
          url: url,
          haystack: (text + '\n' + url).toLowerCase(),
          shown: true
        };
        doc.recs.push(rec);
        all.push(rec);
      }
    }
    docs.push(doc);
  }

  // Option labels carry live counts: remember each label without its count.
  var verdictOptions = [];
  for (var o = 0; o < verdictSel.options.length; o++) {
    var opt = verdictSel.options[o];
    verdictOptions.push({ opt: opt, value: opt.value, label: opt.getAttribute('data-label') });
  }

  function hostMatches(host, want) {
    if (!want) return true;
    if (host === want) return true;
    var cut = host.length - want.length;
    return cut > 0 && host.charAt(cut - 1) === '.' && host.lastIndexOf(want) === cut;
  }

  function apply() {
    var verdict = verdictSel.value;
    var docWanted = docSel.value === '' ? -1 : +docSel.value;
    var host = hostIn.value.trim().toLowerCase().replace(/\.$/, '');
    var terms = searchIn.value.toLowerCase().split(/\s+/).filter(Boolean);
    var perVerdict = {};
    var failingCount = 0;
    var matchingOthers = 0;
    var shown = 0;
    var perDoc = new Array(docs.length);
    for (var d = 0; d < docs.length; d++) perDoc[d] = 0;

    for (var i = 0; i < all.length; i++) {
      var r = all[i];
      var ok = (docWanted < 0 || r.doc === docWanted) && hostMatches(r.host, host);
      for (var t = 0; ok && t < terms.length; t++) {
        if (r.haystack.indexOf(terms[t]) < 0) ok = false;
      }
      if (ok) {
        // Counts per verdict reflect every filter but the verdict itself.
        matchingOthers++;
        perVerdict[r.verdict] = (perVerdict[r.verdict] || 0) + 1;
        if (r.failing) failingCount++;
        if (verdict === 'failing') ok = r.failing;
        else if (verdict !== '') ok = r.verdict === verdict;
      }
      if (ok !== r.shown) {
        r.tr.hidden = !ok;
        r.shown = ok;
      }
      if (ok) {
        shown++;
        perDoc[r.doc]++;
      }
    }

    var filtering = verdict !== '' || docWanted >= 0 || host !== '' || terms.length > 0;
    for (var k = 0; k < docs.length; k++) {
      var doc = docs[k];
      var visible = !filtering || perDoc[k] > 0;
      if (visible !== doc.visible) {
        doc.sec.hidden = !visible;
        doc.visible = visible;
      }
      if (doc.count && perDoc[k] !== doc.shown) {
        var n = doc.recs.length;
        doc.count.textContent = perDoc[k] === n ? n + ' citations' : perDoc[k] + ' of ' + n + ' citations shown';
        doc.shown = perDoc[k];
      }
    }
    for (var v = 0; v < verdictOptions.length; v++) {
      var vo = verdictOptions[v];
      var count = vo.value === '' ? matchingOthers : vo.value === 'failing' ? failingCount : perVerdict[vo.value] || 0;
      var label = vo.label + ' (' + count + ')';
      if (vo.opt.textContent !== label) vo.opt.textContent = label;
    }
    shownOut.textContent = shown === all.length
      ? 'Showing all ' + all.length + ' citations.'
      : 'Showing ' + shown + ' of ' + all.length + ' citations.';
    saveState();
  }

  // The filters live in the address's fragment, so a filtered view can be
  // bookmarked or sent on.
  var fields = [['verdict', verdictSel], ['document', docSel], ['host', hostIn], ['q', searchIn]];
  function saveState() {
    var parts = [];
    for (var i = 0; i < fields.length; i++) {
      var value = fields[i][1].value;
      if (value) parts.push(fields[i][0] + '=' + encodeURIComponent(value));
    }
    var hash = parts.length ? '#' + parts.join('&') : '';
    if (hash !== location.hash && history.replaceState) {
      history.replaceState(null, '', hash || location.pathname + location.search);
    }
  }
  function loadState() {
    var hash = location.hash.slice(1);
    if (hash.indexOf('=') < 0) return;
    var pairs = hash.split('&');
    for (var i = 0; i < pairs.length; i++) {
      var eq = pairs[i].indexOf('=');
      var name = pairs[i].slice(0, eq);
      var value;
      try { value = decodeURIComponent(pairs[i].slice(eq + 1)); } catch (e) { continue; }
      for (var f = 0; f < fields.length; f++) {
        if (fields[f][0] !== name) continue;
        var el = fields[f][1];
        if (el.tagName === 'SELECT') {
          for (var o = 0; o < el.options.length; o++) {
            if (el.options[o].value === value) el.value = value;
          }
        } else {
          el.value = value;
        }
      }
    }
  }

  var timer = 0;
  function applySoon() {
    clearTimeout(timer);
    timer = setTimeout(apply, 150);
  }

  var keys = {
    note: function (a, b) { return a.index - b.index; },
    text: function (a, b) { return collator.compare(a.text, b.text); },
    url: function (a, b) { return collator.compare(a.url, b.url); },
    verdict: function (a, b) { return a.order - b.order; },
    status: function (a, b) { return a.status - b.status; },
    redirects: function (a, b) { return a.redirects - b.redirects; }
  };

  function sortDoc(doc, th, key) {
    var descending = th.getAttribute('aria-sort') === 'ascending';
    var compare = keys[key];
    var sign = descending ? -1 : 1;
    var recs = doc.recs.slice().sort(function (a, b) {
      return sign * compare(a, b) || a.index - b.index;
    });
    // Reorder the rows while their tbody is out of the document, so the
    // browser restyles once instead of once per moved row.
    var body = doc.table.tBodies[0];
    var next = body.nextSibling;
    doc.table.removeChild(body);
    for (var i = 0; i < recs.length; i++) body.appendChild(recs[i].tr);
    doc.table.insertBefore(body, next);
    var heads = doc.table.tHead.rows[0].cells;
    for (var h = 0; h < heads.length; h++) heads[h].removeAttribute('aria-sort');
    th.setAttribute('aria-sort', descending ? 'descending' : 'ascending');
  }

  docs.forEach(function (doc) {
    if (!doc.table) return;
    var heads = doc.table.tHead.rows[0].cells;
    for (var h = 0; h < heads.length; h++) {
      (function (th) {
        var key = th.getAttribute('data-sort');
        if (!keys[key]) return;
        var button = document.createElement('button');
        button.type = 'button';
        button.className = 'sort';
        button.textContent = th.textContent;
        button.title = 'Sort by ' + th.textContent.toLowerCase();
        th.textContent = '';
        th.appendChild(button);
        button.addEventListener('click', function () { sortDoc(doc, th, key); });
      })(heads[h]);
    }
    heads[0].setAttribute('aria-sort', 'ascending');
  });

  verdictSel.addEventListener('change', apply);
  docSel.addEventListener('change', apply);
  // Typing debounces; `change` also catches edits that fire no `input`
  // (autofill, scripted clears).
  [hostIn, searchIn].forEach(function (el) {
    el.addEventListener('input', applySoon);
    el.addEventListener('change', applySoon);
  });
  form.addEventListener('submit', function (e) { e.preventDefault(); apply(); });
  form.addEventListener('reset', function () { setTimeout(apply, 0); });

  // Printing shows the redirect chains of the rows on paper.
  var opened = [];
  addEventListener('beforeprint', function () {
    var closed = document.querySelectorAll('td.chain details:not([open])');
    for (var i = 0; i < closed.length; i++) { closed[i].open = true; opened.push(closed[i]); }
  });
  addEventListener('afterprint', function () {
    for (var i = 0; i < opened.length; i++) opened[i].open = false;
    opened = [];
  });

  loadState();
  form.hidden = false;
  if (location.hash.indexOf('=') >= 0) apply();
  window.linkrotReady = performance.now();
})();
