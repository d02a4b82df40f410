/* Passkeys (WebAuthn): add one on My security, Passkeys, and use one at the second step of logging in.
   A form marked data-passkey-register or data-passkey-sign-in asks its data-options-url for the options (JSON, binary
   fields base64url, a challenge the server keeps in the session), calls navigator.credentials.create or .get, puts
   the answer (JSON, binary fields base64url) in the form's hidden "credential" field and sends the form. A static file:
   the Content-Security-Policy allows no inline script (docs/SECURITY.md). */
(function () {
  "use strict";

  function toBytes(text) {
    var b64 = text.replace(/-/g, "+").replace(/_/g, "/");
    while (b64.length % 4) { b64 += "="; }
    var raw = atob(b64);
    var out = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i += 1) { out[i] = raw.charCodeAt(i); }
    return out.buffer;
  }

  function toText(buffer) {
    if (!buffer) { return null; }
    var bytes = new Uint8Array(buffer);
    var raw = "";
    for (var i = 0; i < bytes.length; i += 1) { raw += String.fromCharCode(bytes[i]); }
    return btoa(raw).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function descriptors(list) {
    return (list || []).map(function (d) { return { type: d.type, id: toBytes(d.id), transports: d.transports }; });
  }

  function creationOptions(json) {
    var o = json.publicKey;
    o.challenge = toBytes(o.challenge);
    o.user.id = toBytes(o.user.id);
    o.excludeCredentials = descriptors(o.excludeCredentials);
    return { publicKey: o };
  }

  function requestOptions(json) {
    var o = json.publicKey;
    o.challenge = toBytes(o.challenge);
    o.allowCredentials = descriptors(o.allowCredentials);
    return { publicKey: o };
  }

  function asJson(credential) {
    var r = credential.response;
    var response = { clientDataJSON: toText(r.clientDataJSON) };
    if (r.attestationObject) {
      response.attestationObject = toText(r.attestationObject);
      response.transports = typeof r.getTransports === "function" ? r.getTransports() : [];
    } else {
      response.authenticatorData = toText(r.authenticatorData);
      response.signature = toText(r.signature);
      response.userHandle = toText(r.userHandle);
    }
    return JSON.stringify({
      id: credential.id,
      rawId: toText(credential.rawId),
      type: credential.type,
      authenticatorAttachment: credential.authenticatorAttachment || null,
      clientExtensionResults: credential.getClientExtensionResults ? credential.getClientExtensionResults() : {},
      response: response
    });
  }

  function say(form, text) {
    var box = form.querySelector("[data-passkey-status]");
    if (!box) { return; }
    box.textContent = text;
    box.hidden = !text;
  }

  function explain(error) {
    if (error && error.name === "NotAllowedError") {
      return "The passkey request was cancelled or timed out. Try again.";
    }
    if (error && error.name === "InvalidStateError") {
      return "This authenticator already holds a passkey for your account.";
    }
    if (error && error.name === "SecurityError") {
      return "Passkeys need the site opened by its name over HTTPS (or localhost), not by an IP address.";
    }
    return (error && error.message) || "The passkey did not work. Try again.";
  }

  function options(form) {
    var token = form.querySelector("input[name=csrfmiddlewaretoken]").value;
    return fetch(form.dataset.optionsUrl, {
      method: "POST",
      credentials: "same-origin",
      headers: { "X-CSRFToken": token, "Accept": "application/json" }
    }).then(function (answer) {
      return answer.json().then(function (body) {
        if (!answer.ok) { throw new Error(body.error || "The server refused the passkey request."); }
        return body;
      });
    });
  }

  function wire(form, make) {
    var field = form.querySelector("input[name=credential]");
    form.addEventListener("submit", function (event) {
      if (field.value) { return; }
      event.preventDefault();
      if (!window.PublicKeyCredential || !navigator.credentials) {
        say(form, "This browser cannot use passkeys.");
        return;
      }
      var name = form.querySelector("input[name=name]");
      if (name && !name.value.trim()) {
        say(form, "Give the passkey a name first.");
        name.focus();
        return;
      }
      var button = form.querySelector("button[type=submit]");
      button.disabled = true;
      say(form, "");
      options(form).then(make).then(function (credential) {
        field.value = asJson(credential);
        form.submit();
      }).catch(function (error) {
        say(form, explain(error));
        button.disabled = false;
      });
    });
  }

  function init() {
    document.querySelectorAll("form[data-passkey-register]").forEach(function (form) {
      wire(form, function (json) { return navigator.credentials.create(creationOptions(json)); });
    });
    document.querySelectorAll("form[data-passkey-sign-in]").forEach(function (form) {
      wire(form, function (json) { return navigator.credentials.get(requestOptions(json)); });
    });
  }

  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", init); } else { init(); }
})();
