// The picture-PIN pad without page reloads: a tap adds the animal's digit, typing works too, and the
// form is sent as soon as the PIN is complete. Without JavaScript the same buttons post the form.
(function () {
  "use strict";
  document.querySelectorAll("form.pin-form").forEach(function (form) {
    var pin = form.querySelector("input[name=pin]");
    var length = parseInt(form.dataset.pinLength, 10) || 4;
    var slots = form.querySelectorAll(".pin-slots .slot");
    var status = form.querySelector("#pin-status");
    var go = form.querySelector("button[name=go]");
    var sending = false;

    function show() {
      slots.forEach(function (slot, index) { slot.classList.toggle("filled", index < pin.value.length); });
      status.textContent = pin.value.length + " of " + length + " pictures chosen";
    }
    function sendWhenComplete() {
      if (pin.value.length < length || sending) return;
      sending = true;
      form.classList.add("sending");
      if (form.requestSubmit) { form.requestSubmit(go); } else { go.click(); }
    }
    form.querySelectorAll("button[name=digit]").forEach(function (key) {
      key.addEventListener("click", function (event) {
        event.preventDefault();
        if (sending) return;
        if (pin.value.length < length) pin.value += key.value;
        show();
        sendWhenComplete();
      });
    });
    form.querySelector("button[name=clear]").addEventListener("click", function (event) {
      event.preventDefault();
      pin.value = "";
      show();
    });
    pin.addEventListener("input", function () {
      pin.value = pin.value.replace(/\D/g, "").slice(0, length);
      show();
      sendWhenComplete();
    });
    show();
  });
})();
