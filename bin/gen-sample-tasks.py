#!/usr/bin/env python3
"""Writes the demo's bundled sample tasks, oracle-service/src/main/resources/dev/tandem/oracle/cli/sample-tasks.json.

The file is committed; this script documents how it was made and regenerates it byte for byte (fixed seed, no
clock). Tasks are of the kinds the offline default serves: support-ticket triage, document summaries, field
extraction and sentiment, filled from templates with varied names, products, amounts, order ids, dates, lengths
and tones, some with fields missing. They are shuffled once so every block of the demo sees a similar mix.

    python3 bin/gen-sample-tasks.py
"""
import json
import os
import random

SEED = 20261206
TOTAL = 200
DEMO = 100
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "oracle-service", "src", "main", "resources",
                   "dev", "tandem", "oracle", "cli", "sample-tasks.json")

r = random.Random(SEED)

FIRST = ["Maria", "James", "Aisha", "Kenji", "Sofia", "Lukas", "Priya", "Mateo", "Chloe", "Oluwaseun", "Ingrid",
         "Wei", "Fatima", "Tomasz", "Emma", "Rahul", "Hannah", "Diego", "Yuki", "Noah", "Amara", "Pierre", "Leila",
         "Connor", "Mei", "Samuel", "Zeynep", "Oscar", "Nadia", "Jonas", "Grace", "Arjun", "Elif", "Marcus", "Ana"]
LAST = ["Keller", "O'Brien", "Okafor", "Tanaka", "Rossi", "Becker", "Sharma", "Fernandez", "Dubois", "Adeyemi",
        "Lindqvist", "Zhang", "Haddad", "Nowak", "Clarke", "Iyer", "Schmidt", "Morales", "Sato", "Walsh", "Mensah",
        "Laurent", "Karimi", "Murphy", "Chen", "Brooks", "Yilmaz", "Nilsson", "Petrova", "Weber", "Kim", "Patel"]
DOMAINS = ["example.com", "example.org", "mail.example.net", "corp.example.com", "example.co.uk", "example.de"]
COMPANIES = ["Northwind Traders", "Bluefin Analytics", "Acme Logistics", "Greenleaf Dental", "Harbor & Finch",
             "Lumen Studio", "Quill Legal LLP", "Redwood Bakery", "Summit Outdoor Co.", "Vertex Robotics"]
PRODUCTS = [("wireless headphones", 89.99), ("standing desk", 429.00), ("espresso machine", 249.50),
            ("running shoes", 119.95), ("4K monitor", 379.00), ("winter jacket", 189.00), ("blender", 74.99),
            ("office chair", 299.00), ("e-reader", 139.99), ("camping tent", 215.40), ("smart thermostat", 169.00),
            ("mechanical keyboard", 129.00), ("air purifier", 199.99), ("yoga mat", 34.50), ("robot vacuum", 349.00),
            ("backpack", 64.00), ("coffee grinder", 58.75), ("kids' bicycle", 159.00), ("desk lamp", 42.90)]
PLANS = [("Starter plan", 12.00), ("Pro plan", 49.00), ("Team plan", 180.00), ("Business plan", 499.00),
         ("annual Pro subscription", 468.00), ("Enterprise seat bundle", 2400.00), ("Premium add-on", 9.99)]
CARRIERS = ["DHL", "UPS", "FedEx", "Royal Mail", "DPD", "the local courier", "USPS"]
CITIES = ["Berlin", "Lyon", "Manchester", "Austin", "Osaka", "Toronto", "Lagos", "Melbourne", "Madrid", "Oslo"]
MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
FULL_MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
               "November", "December"]


def pick(xs):
    return r.choice(xs)


def person():
    first, last = pick(FIRST), pick(LAST)
    local = pick([f"{first}.{last}", f"{first[0]}{last}", f"{first}{r.randint(1, 99)}", f"{first}_{last}"])
    local = local.lower().replace("'", "")
    return first, last, f"{local}@{pick(DOMAINS)}"


def order_id():
    n = r.randint(10000, 999999)
    return pick([f"ORD-{n}", f"ORD-{n}", f"ORDER-{n}", f"PO-{n}", f"ORD{n}", f"ORD-{n}-{pick('ABCDEFGH')}"])


def invoice_id():
    return f"INV-{r.randint(2025, 2026)}-{r.randint(1000, 99999)}"


def amount(value=None):
    v = value if value is not None else round(r.uniform(4, 1800), 2)
    cur = pick(["$", "$", "$", "€", "£", "USD", "EUR"])
    s = f"{v:,.2f}" if v >= 1000 and r.random() < 0.5 else f"{v:.2f}"
    if cur in ("USD", "EUR"):
        return f"{s} {cur}"
    return f"{cur}{s}"


def date():
    y, m, d = 2026, r.randint(1, 11), r.randint(1, 28)
    style = r.randint(0, 3)
    if style == 0:
        return f"{y}-{m:02d}-{d:02d}"
    if style == 1:
        return f"{MONTHS[m - 1]} {d}, {y}"
    if style == 2:
        return f"{m}/{d}/{y}"
    return f"{FULL_MONTHS[m - 1]} {d}"


def phone():
    return pick([f"+1 415 555 {r.randint(1000, 9999)}", f"+44 20 7946 {r.randint(1000, 9999)}",
                 f"+49 30 {r.randint(100000, 999999)}", f"(212) 555-{r.randint(1000, 9999)}"])


def greeting(first=None):
    return pick(["Hello support team,", "Hi,", "Dear Sir or Madam,", "Hi there,", "Hello,", "To whom it may concern,",
                 "Hey,", "Good morning,", ""])


def signoff(first, last, email, with_email=True, with_phone=False):
    lines = [pick(["Thanks,", "Best regards,", "Kind regards,", "Cheers,", "Thank you,", "Regards,", "--"])]
    lines.append(pick([f"{first} {last}", first, f"{first} {last[0]}."]))
    if with_email:
        lines.append(pick([email, f"Email: {email}", f"You can reach me at {email}."]))
    if with_phone:
        lines.append(pick([f"Phone: {phone()}", f"Call me on {phone()} if that is easier."]))
    return "\n".join(lines)


def join(*parts):
    return "\n\n".join(p for p in parts if p)


# ---------------------------------------------------------------------------------------------- support tickets

TRIAGE_TASKS = ["Triage this customer support ticket", "Triage this ticket", "Route this support request to the right team",
                "Handle this inbound support email", "Process this customer complaint and pull out the order details",
                "What kind of ticket is this and who sent it?", "Triage this support ticket and extract the order details"]


def ticket_billing():
    first, last, email = person()
    prod, price = pick(PLANS + PRODUCTS)
    plan, plan_price = pick(PLANS)
    oid, d, amt = order_id(), date(), amount(price)
    body = pick([
        f"I was charged twice for my order {oid} on {d}. The duplicate charge of {amt} showed up on my card this morning. "
        f"Could you please refund the second payment?",
        f"My invoice {invoice_id()} for the {prod} lists {amt}, but the price on your website was lower when I ordered on {d}. "
        f"Please correct the invoice and refund the difference.",
        f"I cancelled my {plan} on {d} and was still billed {amount(plan_price)}. I'd like that refunded, reference {oid}.",
        f"The promo code SPRING{r.randint(10, 40)} was not applied to order {oid}, so I paid {amt} instead of the discounted price.",
        f"There is a charge of {amt} from your company on my statement dated {d} that I don't recognise. "
        f"I have not placed any order recently. What is this for?",
        f"Our finance team needs a copy of the invoice for {oid} with our VAT number on it. The payment of {amt} went out on {d}.",
        f"why did my monthly bill jump to {amount(plan_price * 1.2)}?? nobody told me the {plan} price was going up. this is not ok",
        f"My card payment for {oid} was declined but {amt} has left my bank account anyway. Can you check what happened?",
    ])
    extra = pick(["", "", "I have attached the bank statement for reference.",
                  "This is the second time this has happened this year, so I'd appreciate a quick answer.",
                  "I've been a customer for six years and never had an issue like this before.",
                  "Please confirm by email once the refund has been issued."])
    return first, last, email, body, extra


def ticket_technical():
    first, last, email = person()
    company = pick(COMPANIES)
    code = pick(["500", "502", "403", "429", "504"])
    body = pick([
        f"Since the update on {date()} the app crashes every time I open the settings page. I'm on Android 14, version 5.{r.randint(0, 9)}.{r.randint(0, 20)}.",
        f"We get a {code} error when we call the orders API from our backend at {company}. It started around {r.randint(1, 12)} pm yesterday and "
        f"about {r.randint(5, 60)} % of requests fail. Request id req_{r.randint(100000, 999999)}.",
        f"The dashboard has been loading forever since this morning. I tried Chrome and Firefox and cleared the cache; nothing helps.",
        f"Your webhook keeps timing out when posting to our server, so none of our orders since {date()} were synced. "
        f"Our endpoint answers in under 200 ms when we test it ourselves.",
        f"Exporting a report to CSV does nothing. The button spins for a second and then stops, no file, no error message.",
        f"Uploading any file larger than {pick(['10', '25', '50'])} MB fails with a network error. Smaller files work fine.",
        f"The Slack integration stopped sending notifications for our workspace. We reconnected it twice.",
        f"search is completely broken, every query returns no results even for items i can see in the list",
        f"Two-way sync between the mobile app and the website stopped working; changes on the phone never show up on the web.",
    ])
    extra = pick(["", "", "This is blocking our whole team, please treat it as urgent.",
                  "Happy to send logs or screenshots if that helps.",
                  f"Our account is under {company}.", "Is there a status page I can follow?"])
    return first, last, email, body, extra


def ticket_account():
    first, last, email = person()
    body = pick([
        "I can't log in any more. The password reset email never arrives, I checked spam as well.",
        f"I lost my phone and with it my two-factor authentication app. How can I get back into my account {email}?",
        f"Please change the email address on my account from {email} to {first.lower()}.{last.lower().replace(chr(39), '')}@{pick(DOMAINS)}.",
        "I would like my account and all my personal data deleted under GDPR. Please confirm when it is done.",
        f"A colleague left {pick(COMPANIES)} and we need to remove her admin permissions and transfer her projects to me.",
        "My account was locked after too many login attempts, but I was not the one trying. Was my account compromised?",
        "how do i add a second admin to our workspace? the invite button is greyed out",
        "I keep getting logged out every few minutes on the web app. It only started this week.",
    ])
    extra = pick(["", "", "Thanks for your help.", "I need access before our audit on Friday.",
                  "My username is the same as my email address."])
    return first, last, email, body, extra


def ticket_shipping():
    first, last, email = person()
    prod, price = pick(PRODUCTS)
    oid, d = order_id(), date()
    carrier = pick(CARRIERS)
    body = pick([
        f"My order {oid} ({prod}) was supposed to arrive on {d} and it still hasn't. The {carrier} tracking has not moved in five days.",
        f"The {prod} from order {oid} arrived today with a cracked casing. The box was clearly damaged in transit. I'd like a replacement.",
        f"Tracking for {oid} says delivered on {d}, but nothing was left at my door and my neighbours have nothing either.",
        f"I need to change the delivery address for order {oid} to our new office in {pick(CITIES)} before it ships.",
        f"I'd like to return the {prod} ({oid}) by post. It doesn't fit our space. How do I get a return label?",
        f"Where is my parcel?? Ordered the {prod} on {d}, paid {amount(price)} for express shipping and it is still not here.",
        f"Only half of order {oid} arrived. The {prod} is missing from the box even though the packing slip lists it.",
    ])
    extra = pick(["", "", "It was meant to be a birthday present, so the timing matters.",
                  f"I paid {amount(round(r.uniform(5, 30), 2))} for shipping, which I'd like back if it can't be delivered on time.",
                  "Please let me know what my options are."])
    return first, last, email, body, extra


def ticket_other():
    first, last, email = person()
    company = pick(COMPANIES)
    body = pick([
        f"Just wanted to say your support agent Lena was fantastic on the phone yesterday. She sorted out everything in ten minutes.",
        f"We at {company} are interested in a partnership and would like to talk to someone about reseller terms.",
        "Do you offer a discount for non-profit organisations or schools?",
        f"Is your product available in {pick(CITIES)}? We're opening a second location there next year.",
        "Could you send me your latest security whitepaper and a copy of your SOC 2 report?",
        "Some feedback: the new dark mode looks great, but the font in the sidebar is a bit too small for me.",
        "Are you hiring? I'd love to apply for a role on the support team.",
    ])
    extra = pick(["", "", "No rush on this one.", "Looking forward to hearing from you."])
    return first, last, email, body, extra


TICKETS = [(ticket_billing, 5), (ticket_technical, 4), (ticket_account, 3), (ticket_shipping, 4), (ticket_other, 2)]


def triage_task():
    maker = r.choices([t for t, _ in TICKETS], weights=[w for _, w in TICKETS])[0]
    first, last, email, body, extra = maker()
    subject = "" if r.random() < 0.6 else "Subject: " + pick(["Refund request", "Urgent!!", "Problem with my order",
                                                               "Help needed", "Question", "Account issue", "Re: your last email"])
    with_email = r.random() > 0.15  # some tickets come without an email in the body
    text = join(subject, greeting(), body, extra, signoff(first, last, email, with_email, r.random() < 0.3))
    # "label": the template's category, the reference of the golden sets (bin/gen-golden-sets.py); not written here
    return {"kind": "triage", "task": pick(TRIAGE_TASKS), "inputs": {"document": text.strip()},
            "label": maker.__name__.removeprefix("ticket_")}


# ---------------------------------------------------------------------------------------------- summaries

SUMMARY_TASKS = ["Summarise this document", "Summarize this document", "Give me a short summary of this text",
                 "What is this document about? Keep it brief", "Write a two sentence summary of this report",
                 "TL;DR of this email", "Summarise this"]


def summary_meeting():
    people = r.sample(FIRST, 4)
    topic = pick(["the Q3 product launch", "the office move", "the hiring plan for the support team",
                  "the migration to the new billing system", "the customer onboarding survey", "the holiday rota"])
    d = date()
    sentences = [
        f"Meeting notes, {d}. Present: {', '.join(people)}.",
        f"The team met to discuss {topic}.",
        f"{people[0]} reported that the first milestone slipped by {r.randint(1, 4)} weeks because a vendor delivered late.",
        f"{people[1]} proposed moving the deadline to {date()} rather than cutting scope, and the group agreed.",
        f"The budget stays at {amount(round(r.uniform(8000, 90000), -2))}, with {r.randint(5, 20)} % held back for contingencies.",
        f"{people[2]} will draft the announcement for customers and share it by Thursday.",
        f"Open question: whether the {pick(CITIES)} office joins in the first phase or the second.",
        f"{people[3]} raised that support volume usually rises {r.randint(10, 40)} % after launches and asked for two extra people on call.",
        "Next meeting in two weeks.",
    ]
    keep = sentences[:2] + [sentences[i] for i in sorted(r.sample(range(2, len(sentences) - 1), r.randint(3, 6)))] + sentences[-1:]
    return " ".join(keep)


def summary_incident():
    svc = pick(["checkout", "login", "search", "the public API", "file uploads", "email notifications"])
    mins = r.randint(12, 190)
    region = pick(["eu-west", "us-east", "ap-southeast", "all regions"])
    cause = pick(["an expired TLS certificate on an internal load balancer",
                  "a database migration that locked the orders table",
                  "a configuration change that halved the connection pool",
                  "a memory leak in the new image resizing library",
                  "a third-party payment provider outage"])
    lines = [
        f"Incident report: {svc} degraded in {region} on {date()}.",
        f"For {mins} minutes about {r.randint(3, 80)} % of requests to {svc} failed or timed out.",
        f"The root cause was {cause}.",
        f"On-call engineers were paged after {r.randint(2, 15)} minutes and rolled back the last deploy, which restored service.",
        f"Roughly {r.randint(40, 4000)} customers were affected and {r.randint(0, 120)} support tickets were opened.",
        "Follow-up actions: add an alert on the error rate of the affected service, and test rollbacks monthly.",
        "No customer data was lost.",
    ]
    return " ".join(lines if r.random() < 0.5 else lines[:3] + lines[4:])


def summary_customer_email():
    first, last, email = person()
    prod, price = pick(PRODUCTS)
    parts = [
        greeting(),
        f"I have been using the {prod} for about {r.randint(2, 30)} months now and I wanted to share a longer piece of feedback.",
        pick([f"Overall it has worked well, but since the last update it has become noticeably slower.",
              f"Unfortunately it stopped working properly after {r.randint(3, 11)} weeks and the replacement had the same fault.",
              f"It does what it promises, although setting it up took me most of an afternoon."]),
        pick([f"I contacted support twice, on {date()} and on {date()}, and both times the answers were friendly but did not solve the problem.",
              f"The manual was unclear about the warranty, and the website contradicts it.",
              f"I paid {amount(price)} and expected the battery to last longer than {r.randint(2, 6)} hours."]),
        pick(["I would like to know whether a fix is planned, or whether I should ask for a refund.",
              "If you could pass this on to the product team I would appreciate it.",
              "Please tell me what my options are before the warranty runs out."]),
        signoff(first, last, email, r.random() > 0.3),
    ]
    return join(*parts)


def summary_policy():
    policy = pick(["remote work", "expense reimbursement", "data retention", "travel booking", "password rotation"])
    d = date()
    lines = [
        f"Internal memo: changes to the {policy} policy, effective {d}.",
        pick([f"Employees may now work remotely up to {r.randint(2, 4)} days a week after approval by their manager.",
              f"Expenses above {amount(round(r.uniform(100, 1000), -1))} now need a receipt and a second approval.",
              f"Customer records are deleted {r.randint(12, 84)} months after the last order unless the law requires longer.",
              f"All travel must be booked through the company portal at least {r.randint(7, 21)} days in advance.",
              f"Passwords are no longer rotated every 90 days; instead two-factor authentication is mandatory for everyone."]),
        "The change follows feedback from last year's staff survey and a review by the legal team.",
        f"Questions go to the {pick(['HR', 'finance', 'security', 'operations'])} team.",
        "Managers should walk their teams through the new rules before the effective date.",
    ]
    return " ".join(lines[:r.randint(3, 5)])


def summary_update():
    company = pick(COMPANIES)
    lines = [
        f"Product update from {company} for {pick(FULL_MONTHS)} 2026.",
        pick(["We shipped a redesigned dashboard that loads twice as fast.",
              "Invoices can now be downloaded in bulk as a single ZIP file.",
              "Two-factor authentication now supports hardware security keys."]),
        pick([f"Prices for the {pick(PLANS)[0]} change to {amount()} per month from {date()}; existing customers keep their price for a year.",
              "The legacy API v1 will be switched off at the end of the quarter, so please move to v2.",
              f"We opened a new data centre in {pick(CITIES)} for customers who need their data kept in the region."]),
        pick(["Thanks to everyone who sent feedback through the in-app survey.",
              "As always, reply to this email if you have questions.",
              "Our support hours are extended to weekends starting next month."]),
    ]
    return " ".join(lines)


SUMMARIES = [(summary_meeting, 3), (summary_incident, 3), (summary_customer_email, 3), (summary_policy, 2),
             (summary_update, 2)]


def summary_task():
    maker = r.choices([t for t, _ in SUMMARIES], weights=[w for _, w in SUMMARIES])[0]
    return {"kind": "summary", "task": pick(SUMMARY_TASKS), "inputs": {"document": maker().strip()}}


# ---------------------------------------------------------------------------------------------- field extraction

EXTRACT_TASKS = ["Extract the fields from this document", "Pull out the email address, order number, amount and date",
                 "Get the order id and the amount charged from this email", "Parse this invoice into structured data",
                 "Find the contact email and dates in this text"]


def extraction_task():
    first, last, email = person()
    prod, price = pick(PRODUCTS + PLANS)
    oid, d, amt = order_id(), date(), amount(price)
    company = pick(COMPANIES)
    style = r.randint(0, 4)
    if style == 0:
        text = (f"Order confirmation\nOrder number: {oid}\nDate: {d}\nItem: {prod}\nTotal: {amt}\n"
                f"Customer: {first} {last} <{email}>\nShipping to: {r.randint(1, 200)} Main Street, {pick(CITIES)}")
    elif style == 1:
        inv = invoice_id()
        text = (f"INVOICE {inv}\nIssued by {company} on {d}\nBill to: {first} {last}, {email}\n"
                f"{prod} x{r.randint(1, 5)} .... {amt}\nPayment due within {pick([14, 30, 45])} days.")
    elif style == 2:
        text = (f"Hi {first}, your refund of {amt} for order {oid} was issued on {d}. It can take 5 to 10 business "
                f"days to show up on your statement. Questions? Write to billing@{pick(DOMAINS)}.")
    elif style == 3:
        text = (f"Your {pick(CARRIERS)} shipment for {oid} is on its way. Estimated delivery: {d}. "
                f"We'll send updates to {email}.")
    else:
        # a forwarded note with fields missing: no order id, sometimes no amount
        text = (f"Forwarded message from {first} {last}: I called on {d} about the {prod} I bought last month. "
                + (f"They quoted me {amt} for the repair. " if r.random() < 0.5 else "Nobody could tell me the price of the repair. ")
                + "Can someone call me back?" + (f" My email is {email}." if r.random() < 0.5 else ""))
    return {"kind": "extraction", "task": pick(EXTRACT_TASKS), "inputs": {"document": text}}


# ---------------------------------------------------------------------------------------------- sentiment

SENTIMENT_TASKS = ["What is the sentiment of this review?", "Is this customer happy or angry?",
                   "Classify the sentiment of this message", "Is this feedback positive or negative?",
                   "How does the writer feel about the product?"]


def sentiment_task():
    prod, _ = pick(PRODUCTS + PLANS)
    stars = r.randint(1, 5)
    text = pick({
        1: [f"Absolutely terrible. The {prod} broke after two days and support never answered my emails.",
            f"Worst purchase this year. Cheap materials, arrived late, and the refund took a month.",
            f"I'm so frustrated. Third {prod} in a row with the same defect. Never again."],
        2: [f"Disappointed. The {prod} works, but it's noisy and nothing like the photos.",
            f"Not great. Setup of the {prod} was confusing and the instructions were missing a page."],
        3: [f"The {prod} arrived on time. It does what the description says.",
            f"It's fine. Average quality for the price, nothing special either way.",
            f"Does the {prod} come in other colours? I want to order a second one for the office."],
        4: [f"Really happy with the {prod}. Only wish the cable were a bit longer.",
            f"Good value for the money and the delivery was quick. Would buy again."],
        5: [f"Love it! The {prod} exceeded my expectations and the support team was wonderful.",
            f"Fantastic service, thank you so much for sorting out my order so quickly!",
            f"Five stars. Best {prod} I've owned, and it arrived a day early."],
    }[stars])
    if r.random() < 0.3:
        text = f"{text} ({stars}/5, verified purchase, {date()})"
    label = "negative" if stars <= 2 else "neutral" if stars == 3 else "positive"
    return {"kind": "sentiment", "task": pick(SENTIMENT_TASKS), "inputs": {"document": text}, "label": label}


KINDS = [(triage_task, 40), (summary_task, 25), (extraction_task, 20), (sentiment_task, 15)]


def main():
    tasks, seen = [], set()
    while len(tasks) < TOTAL:
        maker = r.choices([k for k, _ in KINDS], weights=[w for _, w in KINDS])[0]
        t = maker()
        key = (t["task"], t["inputs"]["document"])
        if key in seen:
            continue
        seen.add(key)
        tasks.append(t)
    for i, t in enumerate(tasks, 1):
        t["id"] = f"sample-{i:03d}"
    lines = ["{",
             '  "about": "Sample tasks of bin/demo, written by bin/gen-sample-tasks.py: support-ticket triage, document '
             'summaries, field extraction and sentiment. The tasks above the split marker are the demo\'s default stream; '
             'all of them are the benchmark stream.",',
             '  "tasks": [']
    for i, t in enumerate(tasks):
        ordered = {"id": t["id"], "kind": t["kind"], "task": t["task"], "inputs": t["inputs"]}
        sep = "," if i < len(tasks) - 1 else ""
        if i == DEMO:
            lines.append(f'    {{"split": "demo: the {DEMO} tasks above are bin/demo\'s default stream; the benchmark runs all {TOTAL}"}},')
        lines.append("    " + json.dumps(ordered, ensure_ascii=False) + sep)
    lines += ["  ]", "}"]
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")
    print(f"wrote {len(tasks)} tasks to {os.path.relpath(OUT)}")


if __name__ == "__main__":
    main()
