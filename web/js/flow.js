// flow holds the purchase sequence's rules as pure functions, so they are tested
// without a browser: which step comes next or before (skipping the steps with nothing
// to collect, in both directions), what autodrive may pass, and how the API's error
// fields are addressed.

// PRE_STEPS are the pre-placement steps the storefront knows how to show.
export const PRE_STEPS = ['SHOP', 'PURCHASEREQUIS', 'USERS', 'CUSTOMER', 'ORDER'];

// ROUTES maps each pre-placement step to its page.
export const ROUTES = {
  SHOP: 'shop',
  PURCHASEREQUIS: 'requirements',
  USERS: 'seats',
  CUSTOMER: 'customer',
  ORDER: 'review',
};

// stepOfRoute is the inverse of ROUTES.
export function stepOfRoute(route) {
  return Object.keys(ROUTES).find((s) => ROUTES[s] === route) || null;
}

// applicable lists, in the shop's order, the steps that apply to this cart.
export function applicable(steps) {
  return (steps || []).filter((s) => s.applies).map((s) => s.name);
}

// nextStep is the first applicable step after current in the shop's order (null at
// the end). current need not apply itself: a buyer on a step that stopped applying
// still moves on.
export function nextStep(steps, current) {
  const names = (steps || []).map((s) => s.name);
  const i = names.indexOf(current);
  if (i < 0) return null;
  for (const s of steps.slice(i + 1)) if (s.applies) return s.name;
  return null;
}

// prevStep is the last applicable step before current (null at the start).
export function prevStep(steps, current) {
  const names = (steps || []).map((s) => s.name);
  const i = names.indexOf(current);
  if (i <= 0) return null;
  for (const s of steps.slice(0, i).reverse()) if (s.applies) return s.name;
  return null;
}

// resolveStep returns the step to show when the buyer asks for wanted: wanted itself if
// it applies, else the nearest applicable one in the direction of travel ("forward" or
// "back"), so a skipped step is skipped both ways.
export function resolveStep(steps, wanted, direction = 'forward') {
  const st = (steps || []).find((s) => s.name === wanted);
  if (!st || st.applies) return wanted;
  const alt = direction === 'back' ? prevStep(steps, wanted) : nextStep(steps, wanted);
  return alt || (direction === 'back' ? 'SHOP' : wanted);
}

// firstIncomplete is the first applicable step, before ORDER, that still misses data;
// null when the cart can go to the review.
export function firstIncomplete(steps) {
  for (const s of steps || []) {
    if (s.name === 'ORDER') break;
    if (s.applies && !s.complete) return s.name;
  }
  return null;
}

// autodriveTarget is where autodrive takes a buyer who starts at from: forward through
// every step that applies and is already complete (nothing to enter), stopping at the
// first one that needs input, and never past ORDER (accepting terms is the buyer's act).
export function autodriveTarget(steps, from = 'SHOP') {
  let cur = resolveStep(steps, from, 'forward');
  for (;;) {
    const st = (steps || []).find((s) => s.name === cur);
    if (!st || cur === 'ORDER' || (st.applies && !st.complete)) return cur;
    const nx = nextStep(steps, cur);
    if (!nx) return cur;
    cur = nx;
  }
}

// progress lists the bar's entries: the applicable pre-placement steps, then PAYMENT
// and BILL, each marked done, current or todo.
export function progress(steps, current, placed) {
  const names = [...applicable(steps), 'PAYMENT', 'BILL'];
  const at = names.indexOf(current);
  return names.map((name, i) => {
    let state = 'todo';
    if (i === at) state = 'current';
    else if (placed ? PRE_STEPS.includes(name) || i < at : i < at) state = 'done';
    return { name, state };
  });
}

// splitFieldPath turns an API field address into parts: "SEATS-PACK[2].course" →
// {code: "SEATS-PACK", unit: 2, field: "course"}; "participants[0].email" →
// {code: "participants", unit: 0, field: "email"}; "USERS:SEATS-PACK.student" keeps
// the step in step.
export function splitFieldPath(path) {
  let step = null;
  let rest = String(path);
  const colon = rest.indexOf(':');
  if (colon > 0 && /^[A-Z]+$/.test(rest.slice(0, colon))) {
    step = rest.slice(0, colon);
    rest = rest.slice(colon + 1);
  }
  const m = /^(.*?)\[(\d+)\](?:\.(.*))?$/.exec(rest);
  if (m) return { step, code: m[1], unit: Number(m[2]), field: m[3] ?? '' };
  const dot = rest.lastIndexOf('.');
  if (dot > 0) return { step, code: rest.slice(0, dot), unit: null, field: rest.slice(dot + 1) };
  return { step, code: null, unit: null, field: rest };
}

// stepsOfErrors groups a placement refusal's fields ("STEP:field") by step, in order of
// first appearance, so the review can send the buyer to each step that needs work.
export function stepsOfErrors(fields) {
  const out = [];
  for (const f of fields || []) {
    const { step } = splitFieldPath(f.field);
    if (step && !out.includes(step)) out.push(step);
  }
  return out;
}

// seatsPayload builds the seats request from the form's blocks: each block is one
// seat ({code, role, person}); participants are keyed by lower-cased e-mail, the
// first block naming an address giving its details. It also returns, for each index
// of the participants and seats arrays, the block that produced it, so the API's
// errors ("participants[3].city", "seats[1].email") land on the right inputs.
export function seatsPayload(blocks) {
  const participants = [];
  const seats = [];
  const participantBlock = [];
  const seatBlock = [];
  const byEmail = new Map();
  blocks.forEach((b, i) => {
    const email = String(b.person.email || '').trim().toLowerCase();
    const empty = !email && !b.person.lastName && !b.person.firstName && !b.person.city;
    if (empty) return;
    if (!byEmail.has(email)) {
      byEmail.set(email, participants.length);
      const p = { email, lastName: b.person.lastName || '', firstName: b.person.firstName || '', city: b.person.city || '' };
      if (b.person.phone) p.phone = b.person.phone;
      if (b.person.organisation) p.organisation = b.person.organisation;
      participants.push(p);
      participantBlock.push(i);
    }
    seats.push({ code: b.code, role: b.role, email });
    seatBlock.push(i);
  });
  return { body: { participants, seats }, participantBlock, seatBlock };
}
