// Follows a Causeway data product (docs/egress.md) with fetch streaming and renders each event.
//
// The stream is text/event-stream: events separated by a blank line, `id:` the resume token,
// `data:` one JSON object per record, `event: error` when the server ends the stream, `:`
// heartbeats. On a dropped connection the page reconnects with Last-Event-ID set to the last
// token it saw, so it continues exactly after the last event it rendered.
//
// Settings come from the form, or from the URL fragment for a page opened with everything set
// (#base=...&product=...&token=...&from=earliest&max=N); the fragment never reaches a server.
// Partner data is shown with textContent only: nothing from the stream is parsed as HTML.
"use strict";

const page = {
  status : document.getElementById("status"),
  rows : document.getElementById("events"),
  count : 0,
  lastId : "",
  controller : null,
};

function setStatus(text, error) {
  page.status.textContent = text;
  page.status.className = error ? "error" : "";
}

function cell(row, text, className) {
  const td = document.createElement("td");
  td.textContent = text;
  if (className)
    td.className = className;
  row.appendChild(td);
}

function render(data) {
  let record;
  try {
    record = JSON.parse(data);
  } catch (e) {
    setStatus("an event that is not JSON: " + e.message, true);
    return;
  }
  page.count += 1;
  const row = document.createElement("tr");
  row.className = "event";
  row.dataset.partition = String(record.partition);
  row.dataset.offset = String(record.offset);
  cell(row, String(page.count));
  cell(row, String(record.partition));
  cell(row, String(record.offset));
  cell(row, record.key === undefined || record.key === null ? "" : String(record.key));
  const value = record.value !== undefined ? record.value : record.value_base64;
  cell(row, typeof value === "string" ? value : JSON.stringify(value, null, 1), "value");
  page.rows.appendChild(row);
}

// One event block (the lines between blank lines), as EventSource reads it.
function dispatch(block) {
  let type = "message";
  let id = null;
  const data = [];
  for (const line of block.split(/\r\n|\r|\n/)) {
    if (line === "" || line.startsWith(":"))
      continue;
    const colon = line.indexOf(":");
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? "" : line.slice(colon + 1);
    if (value.startsWith(" "))
      value = value.slice(1);
    if (field === "event")
      type = value;
    else if (field === "data")
      data.push(value);
    else if (field === "id")
      id = value;
  }
  if (id !== null)
    page.lastId = id;
  if (data.length === 0)
    return;
  if (type === "error") {
    let reason = "error";
    try {
      reason = JSON.parse(data.join("\n")).reason || reason;
    } catch (e) {
    }
    setStatus("the server ended the stream (" + reason + "); reconnecting", true);
    return;
  }
  render(data.join("\n"));
}

async function follow(settings) {
  const max = settings.max > 0 ? settings.max : Infinity;
  let attempt = 0;
  while (page.count < max) {
    const headers = {Authorization : "Bearer " + settings.token};
    if (page.lastId)
      headers["Last-Event-ID"] = page.lastId;
    const url = settings.base.replace(/\/+$/, "") + "/v1/products/" +
                encodeURIComponent(settings.product) +
                "/events?from=" + encodeURIComponent(settings.from || "latest");
    page.controller = new AbortController();
    let response;
    try {
      response = await fetch(url, {headers, signal : page.controller.signal, cache : "no-store"});
    } catch (e) {
      setStatus("cannot reach the egress server: " + e.message, true);
      if (++attempt > 5)
        return;
      await new Promise((r) => setTimeout(r, 1000 * attempt));
      continue;
    }
    if (!response.ok) {
      // 401, 403, 404, 429: retrying with the same token would not help.
      setStatus("HTTP " + response.status + ": " + (await response.text()), true);
      return;
    }
    attempt = 0;
    setStatus("following " + settings.product);
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = "";
    try {
      while (page.count < max) {
        const {value, done} = await reader.read();
        if (done)
          break;
        buffer += value;
        let end;
        while (page.count < max && (end = buffer.search(/\r\n\r\n|\n\n|\r\r/)) >= 0) {
          const separator = buffer.startsWith("\r\n\r\n", end) ? 4 : 2;
          dispatch(buffer.slice(0, end));
          buffer = buffer.slice(end + separator);
        }
      }
    } catch (e) {
      setStatus("the connection broke: " + e.message + "; reconnecting", true);
    }
    if (page.count >= max) {
      page.controller.abort();
    }
  }
  setStatus("done: " + page.count + " events");
  document.body.dataset.state = "done";
}

function fromFragment() {
  const params = new URLSearchParams(location.hash.slice(1));
  if (!params.get("base") || !params.get("product") || !params.get("token"))
    return null;
  return {
    base : params.get("base"),
    product : params.get("product"),
    token : params.get("token"),
    from : params.get("from") || "latest",
    max : Number(params.get("max") || 0),
  };
}

document.getElementById("connect").addEventListener("submit", (event) => {
  event.preventDefault();
  const form = new FormData(event.target);
  if (page.controller)
    page.controller.abort();
  follow({
    base : form.get("base"),
    product : form.get("product"),
    token : form.get("token"),
    from : form.get("from"),
    max : 0,
  });
});

const preset = fromFragment();
if (preset) {
  history.replaceState(null, "", location.pathname);  // the token leaves the address bar
  follow(preset);
}
