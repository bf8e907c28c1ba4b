"""Demo content for Arbiter Studio: the fictional company Northwind Components Ltd.

Pure data, no behaviour. Northwind Components is a European B2B distributor of industrial
electronic components (connectors, sensors, relays, power supplies) with its head office in
Dublin and a distribution centre in Venlo. Everything here is invented: company, customers,
staff first names and numbers.

Deliberately planted problems for the clean-up features (all in Northwind Support, each
explained in the ``notes`` of the affected Q&A):

* a near-duplicate pair of questions (same meaning and answer, different wording);
* a conflict with Northwind Master (outdated 14-day return window instead of 30 days);
* one answer containing an example e-mail address (example.com) for the personal-data check.

``TRANSCRIPTS_JSONL`` contains one further example.com address on purpose, for the
personal-data warning in the curation queue.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class DemoQA:
    section: str
    question: str
    answer: str
    qa_type: str = "training"  # or "validation"
    notes: str = ""


@dataclass(frozen=True)
class DemoTurn:
    role: str  # "user" or "assistant" (or "system", rarely)
    content: str  # Markdown allowed
    participant: str = ""  # e.g. "Maria (Sales)" for user turns, model name for assistant turns
    # Assistant turns only: 1 learn from it, 0 context only (a wrong answer that was corrected);
    # None for user/system turns.
    weight: int | None = None


@dataclass(frozen=True)
class DemoConversation:
    title: str
    status: str  # "ready" or "draft"
    turns: tuple[DemoTurn, ...]
    notes: str = ""


@dataclass(frozen=True)
class DemoModel:
    name: str  # e.g. "Northwind Master", "Northwind Sales", "Northwind Support"
    notes: str
    system_message: str  # 4-6 sentences: role, tone, language, constraints
    parent: str | None  # name of the parent model or None
    inherit_parent_training: bool
    aggregate_children_training: bool
    qas: tuple[DemoQA, ...]
    conversations: tuple[DemoConversation, ...]
    kind: str = "arbiter"  # "arbiter" or "assistant"


COMPANY_NAME: str = "Northwind Components Ltd."

# --- Master ------------------------------------------------------------------------------------

_MASTER_QAS: tuple[DemoQA, ...] = (
    DemoQA(
        section="Company facts",
        question="When was Northwind founded and where is our head office?",
        answer=(
            "Northwind Components Ltd. was founded in 2004 and has its head office in Dublin, "
            "Ireland. Our central distribution centre is in Venlo in the Netherlands, and we "
            "have sales offices in Munich, Lyon and Wrocław."
        ),
    ),
    DemoQA(
        section="Company facts",
        question="What exactly do we sell?",
        answer=(
            "We are a B2B distributor of industrial electronic components: connectors, "
            "sensors, relays and power supplies, plus accessories such as cable assemblies and "
            "DIN-rail hardware. The range has about 38,000 active SKUs, of which around 9,500 "
            "are held in stock in Venlo."
        ),
    ),
    DemoQA(
        section="Company facts",
        question="Which product families are our own brand?",
        answer=(
            "Our own brand uses the NW- prefix: NW-CON (connectors), NW-SEN (sensors), NW-REL "
            "(relays) and NW-PSU (power supplies). Everything else in the range is third-party "
            "brands that we distribute under franchise agreements."
        ),
    ),
    DemoQA(
        section="Company facts",
        question="How big is the company?",
        answer=(
            "Northwind has about 240 employees across Dublin, Venlo and the three sales "
            "offices. We serve roughly 11,000 active business customers in the EU, the UK, "
            "Switzerland and Norway."
        ),
    ),
    DemoQA(
        section="Company facts",
        question="Who are our typical customers?",
        answer=(
            "Machine builders, panel builders, system integrators, OEMs and the maintenance "
            "departments of manufacturing plants. We sell only to businesses, never to private "
            "consumers."
        ),
    ),
    DemoQA(
        section="Company facts",
        question="Which internal systems do we work with?",
        answer=(
            "The ERP is the system of record for customers, prices, orders, stock and "
            "invoices. Around it we use the web shop, the CRM for leads and visits, the "
            "helpdesk for support tickets, the RMA portal for returns and the PIM for product "
            "data and datasheets."
        ),
    ),
    DemoQA(
        section="Company facts",
        question="What are our office and warehouse hours?",
        answer=(
            "Offices and phone lines are staffed Monday to Friday, 08:00–18:00 CET. The Venlo "
            "warehouse picks and ships Monday to Friday, 07:00–22:00 CET."
        ),
    ),
    DemoQA(
        section="Company facts",
        question="Which quality certifications does Northwind hold?",
        answer=(
            "We are certified to ISO 9001:2015 for quality management and ISO 14001:2015 for "
            "environmental management, covering Dublin and Venlo. The current certificates are "
            "on the 'About us' page of the web shop and in the Handbook."
        ),
    ),
    DemoQA(
        section="Products & compliance",
        question="Are our products RoHS compliant?",
        answer=(
            "All NW- own-brand products comply with RoHS (Directive 2011/65/EU as amended by "
            "2015/863). For third-party brands the RoHS status is shown on the web shop "
            "product page, taken from the manufacturer's declaration stored in the PIM."
        ),
    ),
    DemoQA(
        section="Products & compliance",
        question="Where can a customer find certificates and declarations for a product?",
        answer=(
            "On the 'Downloads' tab of each product page in the web shop: datasheet, RoHS and "
            "REACH declarations, and the CE Declaration of Conformity where the product needs "
            "one. If a document is missing, open a ticket in the helpdesk queue 'Compliance'; "
            "the team answers within 3 working days."
        ),
    ),
    DemoQA(
        section="Products & compliance",
        question="How do we handle REACH SVHC declarations?",
        answer=(
            "We publish a REACH SVHC declaration for every NW- product and update it within 8 "
            "weeks of each ECHA Candidate List update, normally in January and June. If an "
            "article contains an SVHC above 0.1% by weight, the declaration names the "
            "substance."
        ),
    ),
    DemoQA(
        section="Products & compliance",
        question="Why do some of our connectors have no CE marking?",
        answer=(
            "CE marking applies only to products covered by EU directives such as the Low "
            "Voltage or EMC Directive, for example NW-PSU power supplies or NW-REL solid-state "
            "relays. Passive components like plain connectors and terminal blocks generally "
            "carry no CE marking, and that is correct, not a defect."
        ),
    ),
    DemoQA(
        section="Products & compliance",
        question="Can a customer get a Certificate of Conformity with their shipment?",
        answer=(
            "Yes. A Certificate of Conformity (CoC) per shipment is free if it is requested "
            "with the order; Customer Service ticks 'CoC required' on the order in the ERP. If "
            "it is requested after dispatch, we charge €25 per certificate."
        ),
    ),
    DemoQA(
        section="Ordering & accounts",
        question="What is our minimum order value?",
        answer=(
            "The minimum order value is €150 net, excluding VAT and shipping, for both web "
            "shop and sales orders. The web shop blocks checkout below that; a sales order "
            "below €150 needs a Sales Manager's approval in the ERP."
        ),
    ),
    DemoQA(
        section="Ordering & accounts",
        question="Can private individuals buy from us?",
        answer=(
            "No. We only open accounts for businesses with a company registration number, and "
            "EU customers must also provide a valid VAT ID. If a private person contacts us, "
            "politely refer them to a retail electronics shop."
        ),
    ),
    DemoQA(
        section="Ordering & accounts",
        question="How long does it take to open an account for a new customer?",
        answer=(
            "New business accounts are opened within 1 working day after the customer has "
            "submitted the registration form with company registration and VAT ID. Customer "
            "Service creates the account in the ERP and web shop access is activated "
            "automatically."
        ),
    ),
    DemoQA(
        section="Ordering & accounts",
        question="What is the order cut-off time for same-day shipping?",
        answer=(
            "Stock orders confirmed in the ERP by 15:00 CET on a working day leave Venlo the "
            "same day. Orders confirmed after 15:00 CET ship on the next working day."
        ),
    ),
    DemoQA(
        section="Ordering & accounts",
        question="How can customers place orders with us?",
        answer=(
            "Through the web shop, by sending a purchase order as PDF to Customer Service, via "
            "EDI for key accounts, or through their sales rep. Orders taken by phone must be "
            "confirmed in writing by the customer before we ship."
        ),
    ),
    DemoQA(
        section="Ordering & accounts",
        question="Can a customer cancel an order?",
        answer=(
            "Orders for stock items can be cancelled free of charge until they are shipped. "
            "Non-stock and special-order items are non-cancellable and non-returnable (NCNR) "
            "once we have placed them with the supplier; the order confirmation states this."
        ),
    ),
    DemoQA(
        section="Ordering & accounts",
        question="Do we make partial deliveries?",
        answer=(
            "Yes. By default we ship what is in stock and backorder the rest, and backorder "
            "deliveries carry no extra shipping cost. Customers can ask for 'complete delivery "
            "only' on the order or as a setting on their ERP account."
        ),
    ),
    DemoQA(
        section="Ordering & accounts",
        question="What lead times apply to non-stock items?",
        answer=(
            "Typically 4 to 12 weeks, depending on the manufacturer. The ERP shows the "
            "confirmed supplier date on the order line once the supplier has confirmed it; "
            "never promise a date that is not confirmed in the ERP."
        ),
    ),
    DemoQA(
        section="Ordering & accounts",
        question="Why is an order stuck at 'Export check'?",
        answer=(
            "Every order passes the automatic sanctions and export-control screening in the "
            "ERP, and hits are held at 'Export check'. Only the Compliance team may release "
            "them; we do not deliver to Russia or Belarus under any circumstances."
        ),
    ),
    DemoQA(
        section="Payment & invoicing",
        question="What are our standard payment terms?",
        answer=(
            "After a positive credit check, account customers pay 30 days net from invoice "
            "date, with a 2% early-payment discount if they pay within 10 days. New customers "
            "pay by prepayment or credit card for their first three orders."
        ),
    ),
    DemoQA(
        section="Payment & invoicing",
        question="Which payment methods do we accept?",
        answer=(
            "Bank transfer, SEPA direct debit for account customers, and Visa or Mastercard in "
            "the web shop. We do not accept cheques or cash."
        ),
    ),
    DemoQA(
        section="Payment & invoicing",
        question="What credit limit does a new account get?",
        answer=(
            "New account customers start with a credit limit of €5,000. Credit Control can "
            "raise it up to €25,000; anything above €25,000 needs the CFO's approval."
        ),
    ),
    DemoQA(
        section="Payment & invoicing",
        question="How does our dunning process work?",
        answer=(
            "The ERP sends a first payment reminder at 7 days overdue and a second one at 21 "
            "days overdue. At 30 days overdue the account goes on credit hold, and no new "
            "orders ship until the balance is cleared."
        ),
    ),
    DemoQA(
        section="Payment & invoicing",
        question="Can we invoice in GBP or CHF?",
        answer=(
            "No. All prices, quotes and invoices are in EUR, including for customers in the "
            "UK, Switzerland and Norway."
        ),
    ),
    DemoQA(
        section="Payment & invoicing",
        question="When do we invoice without VAT?",
        answer=(
            "Deliveries to business customers in another EU country are invoiced without VAT "
            "under the reverse-charge rule, provided their VAT ID is valid in VIES. The ERP "
            "checks the VAT ID automatically when the order is entered."
        ),
    ),
    DemoQA(
        section="Payment & invoicing",
        question="What happens if a customer's VAT ID fails the VIES check?",
        answer=(
            "The ERP puts the order on 'VAT check' hold. Customer Service asks the customer to "
            "correct the VAT ID; if they cannot, the order can only ship with VAT charged at "
            "the applicable rate."
        ),
    ),
    DemoQA(
        section="Payment & invoicing",
        question="Which VAT do we charge domestic customers?",
        answer=(
            "Customers in Ireland are charged Irish VAT at 23% and customers in the "
            "Netherlands Dutch VAT at 21%. The ERP chooses the tax code from the delivery "
            "address and VAT ID; unusual cases go to Finance, never guess a VAT treatment."
        ),
    ),
    DemoQA(
        section="Payment & invoicing",
        question="How do customers get their invoices?",
        answer=(
            "Invoices are sent as PDF at dispatch to the invoice address stored in the ERP and "
            "can be downloaded at any time under 'My invoices' in the web shop. Customers who "
            "need e-invoicing via Peppol ask Finance to set it up."
        ),
    ),
    DemoQA(
        section="Payment & invoicing",
        question="How are exports to the UK, Switzerland and Norway invoiced?",
        answer=(
            "They are invoiced without VAT as exports; the customer pays import VAT and any "
            "duty in their own country. UK customers must have their GB EORI number on the "
            "account before the first shipment."
        ),
    ),
    DemoQA(
        section="Delivery",
        question="What is our standard delivery term?",
        answer=(
            "Within the EU our standard term is DAP (Incoterms 2020) to the customer's "
            "address: we pay the freight and the customer unloads. FCA Venlo is used when the "
            "customer sends its own carrier."
        ),
    ),
    DemoQA(
        section="Delivery",
        question="How much do we charge for shipping?",
        answer=(
            "Shipping within the EU is free for orders above €500 net; below that we charge a "
            "flat €9.50 per parcel shipment. Pallet shipments and non-EU destinations are "
            "priced from the freight table in the ERP."
        ),
    ),
    DemoQA(
        section="Delivery",
        question="How long does delivery take?",
        answer=(
            "Stock items reach Germany, the Netherlands and Belgium on the next working day "
            "and most other EU countries in 2–3 working days. Ireland, the Nordics and "
            "southern Europe can take 3–4 working days."
        ),
    ),
    DemoQA(
        section="Delivery",
        question="Do we offer express delivery?",
        answer=(
            "Yes. Delivery by 12:00 on the next working day is available to most EU "
            "destinations for a €25 surcharge per shipment, provided the order is confirmed by "
            "15:00 CET."
        ),
    ),
    DemoQA(
        section="Delivery",
        question="Which carriers do we use?",
        answer=(
            "Parcels go with DPD as standard and with DHL Express for express shipments; "
            "pallets go with our contracted freight forwarder. Customers with their own "
            "carrier account can use it under FCA Venlo."
        ),
    ),
    DemoQA(
        section="Delivery",
        question="How does a customer know their order has shipped?",
        answer=(
            "The customer gets an automatic dispatch notification with the tracking link as "
            "soon as the parcel leaves Venlo. The same link appears under 'My orders' in the "
            "web shop."
        ),
    ),
    DemoQA(
        section="Delivery",
        question="Can customers collect goods themselves?",
        answer=(
            "Yes, from the Venlo distribution centre on working days between 08:00 and 16:00, "
            "once the order shows 'Ready for collection'. Collections are FCA Venlo and must "
            "be booked at least 1 working day ahead."
        ),
    ),
    DemoQA(
        section="Returns basics",
        question="How many days do customers have to return unwanted goods?",
        answer=(
            "Customers can return unwanted stock items within 30 days of delivery, unused and "
            "in the original sealed packaging, with an RMA number from the RMA portal. A 15% "
            "restocking fee applies, minimum €25 per RMA, and the customer pays the return "
            "shipping."
        ),
        notes=(
            "Current policy (30 days since the 2024 policy update). Northwind Support contains "
            "a deliberately planted conflicting copy of this question with the outdated 14-day "
            "answer."
        ),
    ),
    DemoQA(
        section="Returns basics",
        question="What can't be returned as unwanted goods?",
        answer=(
            "Non-stock and special-order items (NCNR), cut-to-length cables, custom cable "
            "assemblies and products programmed or labelled to the customer's specification. "
            "Defective items are still covered by warranty."
        ),
    ),
    DemoQA(
        section="Returns basics",
        question="Does every return need an RMA number?",
        answer=(
            "Yes. Every return needs an RMA number raised in the RMA portal before the goods "
            "are sent. Parcels arriving in Venlo without an RMA number are refused or sent "
            "back at the customer's cost."
        ),
    ),
    DemoQA(
        section="Returns basics",
        question="What is the difference between a warranty return and a commercial return?",
        answer=(
            "A faulty product is a warranty RMA: no restocking fee, and we pay the return "
            "shipping within the EU. Unwanted goods are a commercial return: the customer pays "
            "the return shipping and the 15% restocking fee."
        ),
    ),
    DemoQA(
        section="Returns basics",
        question="What do we do if we shipped the wrong item?",
        answer=(
            "If we picked or shipped the wrong item, the customer pays nothing: Support issues "
            "an RMA with a prepaid return label and we send the correct item by express at our "
            "cost."
        ),
    ),
    DemoQA(
        section="Returns basics",
        question="What warranty do we give?",
        answer=(
            "NW- own-brand products have a 24-month warranty from delivery, except NW-PSU "
            "power supplies, which have 36 months. Third-party brands carry the manufacturer's "
            "warranty, usually 12 to 24 months, as shown on the product page."
        ),
    ),
    DemoQA(
        section="Returns basics",
        question="When does the customer get a credit note for a return?",
        answer=(
            "Within 5 working days after the returned goods arrive in Venlo and pass "
            "inspection. The credit is offset against open invoices or refunded to the "
            "original payment method."
        ),
    ),
    DemoQA(
        section="Returns basics",
        question="How must transport damage be reported?",
        answer=(
            "Visible damage should be noted on the carrier's delivery receipt. Any transport "
            "damage must be reported within 5 working days of delivery through the RMA portal, "
            "with photos of the parcel and the goods."
        ),
    ),
    DemoQA(
        section="Tone & brand",
        question="How do we write our company name?",
        answer=(
            "Write 'Northwind Components' in full at first mention and 'Northwind' after that; "
            "never 'NW' or 'Northwind Comp.' in customer texts. The NW- prefix is used only in "
            "own-brand product codes."
        ),
    ),
    DemoQA(
        section="Tone & brand",
        question="What tone do we use with customers?",
        answer=(
            "Friendly, direct and factual: short sentences, plain language, no slang and no "
            "strings of exclamation marks. We say 'we' for the company and use the formal "
            "address in languages that have one (Sie, vous, Pan/Pani)."
        ),
    ),
    DemoQA(
        section="Tone & brand",
        question="In which languages do we answer customers?",
        answer=(
            "English, German, French, Dutch and Polish. Reply in the customer's language if it "
            "is one of these, otherwise in English."
        ),
    ),
    DemoQA(
        section="Tone & brand",
        question="What do I say if the customer asks for a delivery date we don't know yet?",
        answer=(
            "Never promise a date that is not confirmed in the ERP. Say what is confirmed, or "
            "that we are waiting for the supplier's confirmation and when we will update them, "
            "for example 'by Thursday 12:00'."
        ),
    ),
    DemoQA(
        section="Tone & brand",
        question="May we comment on competitors?",
        answer=(
            "No. Do not comment on competitors' prices, quality or stock. If a customer "
            "mentions a competitor's offer, thank them and pass the details to the sales rep "
            "for a price check."
        ),
    ),
    DemoQA(
        section="Tone & brand",
        question="How should I sign customer e-mails?",
        answer=(
            "Sign with your first name, your team and 'Northwind Components', for example "
            "'Kind regards, Aoife – Customer Service, Northwind Components'. Do not add "
            "personal mobile numbers to your signature."
        ),
    ),
    DemoQA(
        section="Tone & brand",
        question="How do we apologise when we got something wrong?",
        answer=(
            "Apologise once and clearly, then say what we will do and by when. Do not blame "
            "carriers, suppliers or colleagues in customer messages."
        ),
    ),
    DemoQA(
        section="Tone & brand",
        question="How fast do we promise to answer customers?",
        answer=(
            "We answer customer e-mails within 4 business hours and web chat within 2 minutes "
            "during office hours, Monday to Friday 08:00–18:00 CET. Key accounts get a first "
            "response within 2 business hours."
        ),
    ),
    DemoQA(
        section="Data protection",
        question="Which customer data may I paste into a chat with the arbiters?",
        answer=(
            "Only what the question needs: customer number, order number, RMA number and "
            "product codes. Do not paste contact persons' names, e-mail addresses, phone "
            "numbers, bank details or card numbers into chats with the arbiters."
        ),
    ),
    DemoQA(
        section="Data protection",
        question="How do I verify a caller before giving out order information?",
        answer=(
            "Ask for the customer number and the postcode of the invoice address stored in the "
            "ERP. If the caller cannot give both correctly, give no order, price or invoice "
            "details and offer to send the information to the contact address on file instead."
        ),
    ),
    DemoQA(
        section="Data protection",
        question="What do I do with a request to see or delete someone's personal data?",
        answer=(
            "Forward every request for access, correction or erasure to the Data Protection "
            "Officer through the helpdesk queue 'Privacy' on the same day. We must answer "
            "within one month, so such a request must never sit in a personal inbox."
        ),
    ),
    DemoQA(
        section="Data protection",
        question="Can we take card payments by phone?",
        answer=(
            "No. We never take card numbers by phone, e-mail or chat; card payments go only "
            "through the web shop's payment provider. If a customer sends card details in "
            "writing, delete the message and ask them to pay in the web shop."
        ),
    ),
    DemoQA(
        section="Data protection",
        question="Can I e-mail a customer list to a colleague?",
        answer=(
            "No. Customer lists and exports from the ERP or CRM must not be sent by e-mail or "
            "stored on personal drives. Share them through the CRM or the restricted Sales "
            "Operations folder, limited to the people who need them."
        ),
    ),
    DemoQA(
        section="Data protection",
        question="How long do we keep customer data?",
        answer=(
            "Order and invoice records are kept for 7 years for tax purposes. Contact persons "
            "in the CRM with no activity for 3 years are deleted automatically."
        ),
    ),
    DemoQA(
        section="Data protection",
        question="What counts as a data breach and how do I report it?",
        answer=(
            "Anything that exposes personal data, such as an invoice sent to the wrong "
            "customer or a lost laptop. Report it to the Data Protection Officer via the "
            "'Privacy' queue within 24 hours; the DPO decides whether the authority must be "
            "notified within the 72-hour deadline."
        ),
    ),
    DemoQA(
        section="Data protection",
        question="Who may receive our newsletter?",
        answer=(
            "Only contacts with the marketing opt-in ticked in the CRM; order confirmations "
            "and service messages are not marketing. Unsubscribes are processed automatically "
            "within 2 working days."
        ),
    ),
    DemoQA(
        section="Ordering & accounts",
        question="What's the smallest order we accept?",
        answer=(
            "€150 net, excluding VAT and shipping. Below that the web shop blocks checkout, "
            "and a sales order needs a Sales Manager's approval in the ERP."
        ),
        qa_type="validation",
        notes="Validation: paraphrase of 'What is our minimum order value?'.",
    ),
    DemoQA(
        section="Payment & invoicing",
        question="If a customer pays within ten days, what discount can they take?",
        answer=(
            "A 2% early-payment discount; otherwise approved accounts pay 30 days net from "
            "invoice date."
        ),
        qa_type="validation",
        notes="Validation: paraphrase of 'What are our standard payment terms?'.",
    ),
    DemoQA(
        section="Ordering & accounts",
        question="By what time must an order be confirmed to leave Venlo the same day?",
        answer=(
            "By 15:00 CET on a working day, for stock items confirmed in the ERP. Later orders "
            "ship the next working day."
        ),
        qa_type="validation",
        notes=(
            "Validation: paraphrase of 'What is the order cut-off time for same-day shipping?'."
        ),
    ),
    DemoQA(
        section="Returns basics",
        question="Can a customer send goods back without an RMA number?",
        answer=(
            "No. An RMA number must be raised in the RMA portal before sending; parcels "
            "without one are refused or returned at the customer's cost."
        ),
        qa_type="validation",
        notes="Validation: paraphrase of 'Does every return need an RMA number?'.",
    ),
    DemoQA(
        section="Delivery",
        question="From which order value is shipping free inside the EU?",
        answer="From €500 net. Below that we charge a flat €9.50 per parcel shipment.",
        qa_type="validation",
        notes="Validation: paraphrase of 'How much do we charge for shipping?'.",
    ),
)

_MASTER_CONVERSATIONS: tuple[DemoConversation, ...] = (
    DemoConversation(
        title="New customer below the minimum order value",
        status="ready",
        turns=(
            DemoTurn(
                role="user",
                content=(
                    "A new customer from Graz wants two NW-CON M12 sensor cables, €64 net in "
                    "total. Can we ship that?"
                ),
                participant="Aoife (Customer Service)",
            ),
            DemoTurn(
                role="assistant",
                content=(
                    "Not as a normal order. Our **minimum order value is €150 net** (excluding "
                    "VAT and shipping), and the web shop blocks checkout below that.\n"
                    "\n"
                    "Options:\n"
                    "- Suggest they add items they will need anyway, e.g. spare cables or "
                    "mounting brackets.\n"
                    "- If there is a good business reason (for example a first order from a "
                    "promising prospect), a **Sales Manager can approve** a sales order below "
                    "€150 in the ERP."
                ),
                participant="Northwind Master",
                weight=1,
            ),
            DemoTurn(
                role="user",
                content="They're a brand-new account. How can they pay?",
                participant="Aoife (Customer Service)",
            ),
            DemoTurn(
                role="assistant",
                content=(
                    "For their **first three orders** a new customer pays by:\n"
                    "- **prepayment** by bank transfer, or\n"
                    "- **Visa or Mastercard** in the web shop.\n"
                    "\n"
                    "After a positive credit check by Credit Control they move to **30 days "
                    "net**, with a **2% discount** if they pay within 10 days. Their starting "
                    "credit limit is €5,000."
                ),
                participant="Northwind Master",
                weight=1,
            ),
        ),
    ),
    DemoConversation(
        title="Return window for unwanted relays (corrected)",
        status="ready",
        turns=(
            DemoTurn(
                role="user",
                content=(
                    "A customer in Lyon ordered 50 NW-REL relays by mistake three weeks ago. "
                    "Can they still send them back?"
                ),
                participant="Liam (Operations)",
            ),
            DemoTurn(
                role="assistant",
                content=(
                    "No. Unwanted goods must be returned within 14 days of delivery, so after "
                    "three weeks the customer has to keep the relays."
                ),
                participant="Northwind Master",
                weight=0,
            ),
            DemoTurn(
                role="user",
                content=(
                    "That's the old rule. Since the 2024 policy update it's 30 days from "
                    "delivery. Please correct."
                ),
                participant="Liam (Operations)",
            ),
            DemoTurn(
                role="assistant",
                content=(
                    "You're right, sorry. Unwanted stock items can be returned **within 30 "
                    "days of delivery**, so three weeks is fine, provided that:\n"
                    "\n"
                    "1. the relays are unused and in the **original sealed packaging**,\n"
                    "2. the customer raises an **RMA in the RMA portal** before sending "
                    "anything,\n"
                    "3. they accept the **15% restocking fee (minimum €25)** and pay the "
                    "return shipping.\n"
                    "\n"
                    "If the relays were a special order (NCNR), they could not be returned at "
                    "all."
                ),
                participant="Northwind Master",
                weight=1,
            ),
            DemoTurn(
                role="user",
                content="And when do they get their money back?",
                participant="Liam (Operations)",
            ),
            DemoTurn(
                role="assistant",
                content=(
                    "The credit note is issued **within 5 working days** after the relays "
                    "arrive in Venlo and pass inspection. It is offset against open invoices "
                    "or refunded to the original payment method."
                ),
                participant="Northwind Master",
                weight=1,
            ),
        ),
        notes="Shows a correction: the first answer used the outdated 14-day return window.",
    ),
    DemoConversation(
        title="Caller asks for invoice copies",
        status="ready",
        turns=(
            DemoTurn(
                role="user",
                content=(
                    "Someone calls saying they're from Brenner Automation and wants last "
                    "month's invoices sent to a private address, not the one we have. What do "
                    "I do?"
                ),
                participant="Aoife (Customer Service)",
            ),
            DemoTurn(
                role="assistant",
                content=(
                    "First **verify the caller**: ask for the customer number and the postcode "
                    "of the invoice address stored in the ERP.\n"
                    "\n"
                    "Even if they pass, do **not** send invoices to an address that is not on "
                    "file. Offer instead:\n"
                    "- download under **'My invoices'** in the web shop, or\n"
                    "- a copy sent to the invoice address stored in the ERP.\n"
                    "\n"
                    "Changes to the invoice address have to come in writing from the customer "
                    "and are made by Finance."
                ),
                participant="Northwind Master",
                weight=1,
            ),
            DemoTurn(
                role="user",
                content="They gave the right customer number but the wrong postcode.",
                participant="Aoife (Customer Service)",
            ),
            DemoTurn(
                role="assistant",
                content=(
                    "Then the caller is **not verified**. Do not confirm any invoice numbers, "
                    "amounts or order details. Politely say that you can only send copies to "
                    "the address on file, and note the call in the CRM.\n"
                    "\n"
                    "If it looks like a phishing attempt, report it to the Data Protection "
                    "Officer via the **'Privacy'** helpdesk queue within 24 hours."
                ),
                participant="Northwind Master",
                weight=1,
            ),
        ),
    ),
    DemoConversation(
        title="Checking an apology against the tone guide",
        status="draft",
        turns=(
            DemoTurn(
                role="user",
                content=(
                    "Can you check this line for our style? 'Sorry!!! The carrier messed up "
                    "again, your sensors will def be there tomorrow.'"
                ),
                participant="Maria (Sales)",
            ),
            DemoTurn(
                role="assistant",
                content=(
                    "Three things clash with our tone guide:\n"
                    "\n"
                    "- **Exclamation marks and slang** ('!!!', 'def') – keep it plain and "
                    "factual.\n"
                    "- **Blaming the carrier** – we don't blame carriers, suppliers or "
                    "colleagues.\n"
                    "- **An unconfirmed promise** – only give dates we can confirm.\n"
                    "\n"
                    "Suggestion: *'We are sorry that your sensors have not arrived yet. The "
                    "parcel is delayed in transit, and we will update you with the confirmed "
                    "delivery date by 12:00 tomorrow.'*"
                ),
                participant="Northwind Master",
                weight=1,
            ),
            DemoTurn(
                role="user",
                content="Good. Should I add my mobile number under my name?",
                participant="Maria (Sales)",
            ),
            DemoTurn(
                role="assistant",
                content=(
                    "No. Sign with your first name, your team and 'Northwind Components', e.g. "
                    "*Kind regards, Maria – Sales, Northwind Components*, without personal "
                    "mobile numbers."
                ),
                participant="Northwind Master",
                weight=1,
            ),
        ),
        notes=(
            "Draft: waiting for Marketing to confirm the updated tone guide before this is "
            "marked ready."
        ),
    ),
)

# --- Sales -------------------------------------------------------------------------------------

_SALES_QAS: tuple[DemoQA, ...] = (
    DemoQA(
        section="Pricing & discounts",
        question="Where do our list prices come from?",
        answer=(
            "List prices are maintained in the ERP by Product Management and pushed to the web "
            "shop every night. They are in EUR, net of VAT, with quantity breaks at 1+, 10+, "
            "100+ and 1,000+ pieces."
        ),
    ),
    DemoQA(
        section="Pricing & discounts",
        question="How much discount can a sales rep give?",
        answer=(
            "A rep may give up to 5% off list on their own. From 5% to 12% needs the Sales "
            "Manager's approval in the ERP, and anything above 12% needs the Head of Sales "
            "plus a margin check."
        ),
    ),
    DemoQA(
        section="Pricing & discounts",
        question="What is our margin floor?",
        answer=(
            "No deal may go below 18% gross margin without the Head of Sales' approval in the "
            "ERP. The quote tool shows the margin per line and flags anything below 18% in red."
        ),
    ),
    DemoQA(
        section="Pricing & discounts",
        question="How does the copper surcharge work?",
        answer=(
            "Prices for cables and cable assemblies include a copper surcharge based on the "
            "monthly average copper price, which the ERP updates on the first working day of "
            "each month. Quotes show it as a separate line, and it is not fixed for the "
            "quote's validity unless the Sales Manager agrees."
        ),
    ),
    DemoQA(
        section="Pricing & discounts",
        question="When do list prices change?",
        answer=(
            "General list price changes happen once a year on 1 February and are announced to "
            "customers at least 30 days ahead. Supplier-driven increases on third-party lines "
            "can come in between; Product Management announces them in the Sales channel."
        ),
    ),
    DemoQA(
        section="Pricing & discounts",
        question="Can we match a competitor's price?",
        answer=(
            "Only after a price check: log the competitor offer in the CRM with a copy of "
            "their quote, and the Sales Manager decides within 1 working day. We never go "
            "below the 18% margin floor to match a price."
        ),
    ),
    DemoQA(
        section="Pricing & discounts",
        question="Why does the web shop show a different price than my quote?",
        answer=(
            "Logged-in customers see their own customer-specific prices in the web shop, so "
            "the two should match. If they differ, the ERP price list is the reference; report "
            "the mismatch to Sales Operations the same day."
        ),
    ),
    DemoQA(
        section="Pricing & discounts",
        question="What prices do resellers get?",
        answer=(
            "Resellers get the 'Reseller' price list, on average 8% below list, once Sales "
            "Operations has verified their reseller status. They are not eligible for project "
            "pricing on top of that."
        ),
    ),
    DemoQA(
        section="Pricing & discounts",
        question="Do quantity breaks apply per order line or per order?",
        answer=(
            "Per order line and per item: 100 pieces of one part number get the 100+ price, "
            "but 50 each of two different parts do not. The ERP applies the breaks "
            "automatically."
        ),
    ),
    DemoQA(
        section="Quotes",
        question="How long is a quote valid?",
        answer=(
            "Standard quotes are valid for 30 days. Project quotes can be valid for up to 12 "
            "months if the Sales Manager approves, but the copper surcharge is still adjusted "
            "monthly."
        ),
    ),
    DemoQA(
        section="Quotes",
        question="Where do I create a quote?",
        answer=(
            "In the ERP quote module under Sales > Quotes; quote numbers start with 'Q-' and "
            "the year. Never send prices in a free-text e-mail without a quote number, because "
            "Customer Service cannot convert them into an order."
        ),
    ),
    DemoQA(
        section="Quotes",
        question="Do big quotes need approval?",
        answer=(
            "Yes. Quotes above €10,000 net need a second review by the Sales Manager before "
            "they go out, and the ERP keeps them in 'Awaiting approval' until that is done."
        ),
    ),
    DemoQA(
        section="Quotes",
        question="When should I follow up on a quote?",
        answer=(
            "Follow up every quote above €2,000 net after 5 working days and log the result in "
            "the CRM. Quotes not won after 30 days are set to 'Lost' with a reason code."
        ),
    ),
    DemoQA(
        section="Quotes",
        question="How do I turn an accepted quote into an order?",
        answer=(
            "Convert the quote to a sales order in the ERP so prices and terms carry over, and "
            "put the customer's PO number in the 'Customer reference' field. Customer Service "
            "checks stock and sends the order confirmation the same day."
        ),
    ),
    DemoQA(
        section="Quotes",
        question="Which lead time do I put on a quote?",
        answer=(
            "The one the ERP shows: 'ex stock' for stock items, and the supplier's standard "
            "lead time for non-stock items, marked 'subject to confirmation at order'. Never "
            "shorten a supplier lead time on your own."
        ),
    ),
    DemoQA(
        section="Quotes",
        question="Can I quote a UK customer in pounds?",
        answer=(
            "No, all quotes are in EUR. If a UK or Swiss customer needs GBP or CHF for "
            "budgeting, they convert it themselves; we do not state exchange rates."
        ),
    ),
    DemoQA(
        section="Quotes",
        question="Which payment terms go on a quote?",
        answer=(
            "The customer's terms from the ERP: 30 days net for approved accounts, prepayment "
            "for new accounts. Longer terms need Credit Control's approval before the quote is "
            "sent, and we never offer more than 60 days."
        ),
    ),
    DemoQA(
        section="Quotes",
        question="Who handles public tenders?",
        answer=(
            "Public tenders and any tender above €50,000 go through the Bid Desk in Sales "
            "Operations, which coordinates pricing, documents and the submission. Tell them as "
            "soon as the tender is published, at least 10 working days before the deadline."
        ),
    ),
    DemoQA(
        section="Quotes",
        question="Do I have to mark non-returnable items on a quote?",
        answer=(
            "Yes. Every non-stock or special-order line must say 'NCNR' on the quote, so the "
            "customer knows it cannot be cancelled or returned once we have ordered it from "
            "the supplier."
        ),
    ),
    DemoQA(
        section="Key accounts",
        question="What makes a customer a key account?",
        answer=(
            "Annual net spend above €250,000, or a strategic OEM nominated by the Head of "
            "Sales. Key accounts get a dedicated key account manager and a customer-specific "
            "price list."
        ),
    ),
    DemoQA(
        section="Key accounts",
        question="When are key account price lists reviewed?",
        answer=(
            "Once a year in January; the list is valid for the calendar year. Mid-year changes "
            "are only made for supplier increases above 5%, with 30 days' notice to the "
            "customer."
        ),
    ),
    DemoQA(
        section="Key accounts",
        question="Do key accounts get an annual rebate?",
        answer=(
            "Only with a signed framework agreement: 1% from €250,000 and 2% from €500,000 "
            "annual net spend. The rebate is paid as a credit note in January."
        ),
    ),
    DemoQA(
        section="Key accounts",
        question="Can a key account get consignment stock?",
        answer=(
            "Consignment stock or a Kanban bin service is possible for key accounts above "
            "€500,000 annual spend with a signed framework agreement. The Logistics Manager "
            "must approve the site and the stock list first."
        ),
    ),
    DemoQA(
        section="Key accounts",
        question="What happens in a quarterly business review?",
        answer=(
            "The key account manager reviews spend, on-time delivery, open RMAs and upcoming "
            "projects with the customer every quarter. The deck comes from the CRM dashboard "
            "and the minutes are saved in the CRM."
        ),
    ),
    DemoQA(
        section="Key accounts",
        question="Can key accounts order by EDI?",
        answer=(
            "Yes, via EDIFACT (ORDERS, ORDRSP, DESADV and INVOIC) once Sales Operations has "
            "set up and tested the connection. Setup takes about 4 to 6 weeks."
        ),
    ),
    DemoQA(
        section="Key accounts",
        question="How do framework agreements and blanket orders work?",
        answer=(
            "A framework agreement runs for 12 months with agreed prices and an estimated "
            "volume; the customer calls off against a blanket order in the ERP. We hold safety "
            "stock for up to 3 months of the forecast."
        ),
    ),
    DemoQA(
        section="Key accounts",
        question="What service level do key accounts get?",
        answer=(
            "A named contact in Customer Service, a first response within 2 business hours and "
            "priority in the RMA queue. Our on-time delivery target for key accounts is 97%."
        ),
    ),
    DemoQA(
        section="Key accounts",
        question="Can a customer lose key account status?",
        answer=(
            "Yes. If annual spend stays below €200,000 for two years in a row, the account "
            "moves back to standard terms at the next January review, once the Head of Sales "
            "has agreed."
        ),
    ),
    DemoQA(
        section="Shipping & Incoterms",
        question="Which Incoterms do we offer?",
        answer=(
            "DAP is our EU standard and FCA Venlo applies when the customer sends its own "
            "carrier; CPT and DDP are available on request. We do not offer EXW, because we "
            "load the goods onto the carrier ourselves, which FCA reflects."
        ),
    ),
    DemoQA(
        section="Shipping & Incoterms",
        question="When can we sell DDP?",
        answer=(
            "Only with the Sales Manager's approval, mainly for key accounts in the UK, "
            "Switzerland or Norway, because we then pay import duties and VAT in the "
            "destination country. Logistics' freight and duty estimate must be added to the "
            "quote."
        ),
    ),
    DemoQA(
        section="Shipping & Incoterms",
        question="When does the risk pass to the customer under DAP?",
        answer=(
            "When the goods are ready for unloading at the customer's address. Transport "
            "damage before that is our risk, and we claim it from the carrier."
        ),
    ),
    DemoQA(
        section="Shipping & Incoterms",
        question="How does FCA Venlo work?",
        answer=(
            "The risk passes when we have loaded the goods onto the customer's carrier at our "
            "dock in Venlo. The customer books the carrier and must give us the collection "
            "reference at least 1 working day in advance."
        ),
    ),
    DemoQA(
        section="Shipping & Incoterms",
        question="What shipping costs do I put on a quote?",
        answer=(
            "Within the EU shipping is free above €500 net and €9.50 per parcel shipment below "
            "that. Pallet freight and non-EU destinations come from the freight table in the "
            "ERP, which the quote tool adds automatically."
        ),
    ),
    DemoQA(
        section="Shipping & Incoterms",
        question="When do we ship on a pallet?",
        answer=(
            "Orders above roughly 30 kg or more than 3 parcels go on a pallet, priced from the "
            "ERP freight table. Pallets to Germany and the Benelux are delivered in 2 working "
            "days."
        ),
    ),
    DemoQA(
        section="Shipping & Incoterms",
        question="How do we ship to the UK?",
        answer=(
            "DAP with DHL or our forwarder; the customer is the importer of record and pays UK "
            "import VAT and any duty. The customer's GB EORI number must be on the account "
            "before the first shipment."
        ),
    ),
    DemoQA(
        section="Shipping & Incoterms",
        question="What documents go with shipments to Switzerland and Norway?",
        answer=(
            "A commercial invoice with an origin declaration; the customer pays import VAT and "
            "duties under DAP. Most NW- products have EU preferential origin, which is stated "
            "on the invoice."
        ),
    ),
    DemoQA(
        section="Shipping & Incoterms",
        question="What does express delivery cost?",
        answer=(
            "€25 per shipment for delivery by 12:00 on the next working day to most EU "
            "destinations, if the order is confirmed by 15:00 CET. Put it on the quote as a "
            "separate line."
        ),
    ),
    DemoQA(
        section="Shipping & Incoterms",
        question="Does the customer need transport insurance?",
        answer=(
            "Not under DAP: our carrier contracts cover the goods up to their invoice value. "
            "Under FCA the customer's own carrier and insurance apply."
        ),
    ),
    DemoQA(
        section="New customers & credit",
        question="How do I get a credit check for a new customer?",
        answer=(
            "Request it from Credit Control through the CRM account page; results normally "
            "come within 2 working days. Until then the customer pays by prepayment or credit "
            "card."
        ),
    ),
    DemoQA(
        section="New customers & credit",
        question="Who can raise a customer's credit limit?",
        answer=(
            "Credit Control can raise it from the starting €5,000 up to €25,000. Anything "
            "above €25,000 needs the CFO's approval."
        ),
    ),
    DemoQA(
        section="New customers & credit",
        question="What happens if an order goes over the customer's credit limit?",
        answer=(
            "The ERP puts the order on 'Credit hold'. Ask Credit Control for a one-off "
            "release, or ask the customer to prepay the part above the limit."
        ),
    ),
    DemoQA(
        section="New customers & credit",
        question="Can I offer 60 or 90 days payment terms?",
        answer=(
            "60 days only with Credit Control's approval, and only for approved accounts with "
            "a clean payment history. We never offer 90 days."
        ),
    ),
    DemoQA(
        section="New customers & credit",
        question="How many orders does a new customer prepay?",
        answer=(
            "The first three orders, by prepayment or credit card. After that, and a positive "
            "credit check, they move to 30 days net."
        ),
    ),
    DemoQA(
        section="Samples & projects",
        question="How do free samples work?",
        answer=(
            "Free samples up to €50 value per project, at most 3 sample requests per customer "
            "per quarter, via the sample request form in the CRM. Sample orders above €50 are "
            "invoiced at 50% of list price."
        ),
    ),
    DemoQA(
        section="Samples & projects",
        question="What is a design-in registration?",
        answer=(
            "A CRM record of a project where the customer designs our part into their product, "
            "with the end application and expected annual volume. An approved registration "
            "gives the customer project pricing for up to 12 months and protects the "
            "opportunity for the rep who registered it."
        ),
    ),
    DemoQA(
        section="Samples & projects",
        question="What do we do when a part goes end-of-life?",
        answer=(
            "Product Management informs affected customers of the last-time-buy date, normally "
            "6 months after the manufacturer's notice. Reps follow up with every customer who "
            "bought the part in the last 24 months."
        ),
    ),
    DemoQA(
        section="Samples & projects",
        question="What about manufacturer minimum order quantities?",
        answer=(
            "Many manufacturers sell only full reels or packs; the ERP shows the MOQ on the "
            "item card and the quote tool rounds up automatically. Tell the customer about the "
            "rounding before they order."
        ),
    ),
    DemoQA(
        section="Samples & projects",
        question="Can a customer get project pricing and the reseller price list together?",
        answer=(
            "No. Resellers buy from the 'Reseller' price list and cannot combine it with "
            "project pricing from a design-in registration."
        ),
    ),
    DemoQA(
        section="Product availability",
        question="How do I check stock?",
        answer=(
            "The ERP shows free stock in Venlo in real time; the web shop shows the same "
            "figure, refreshed every 15 minutes. Stock reserved for key-account call-offs is "
            "not shown as free."
        ),
    ),
    DemoQA(
        section="Product availability",
        question="Can I reserve stock for a quote?",
        answer=(
            "Yes, for up to 5 working days; longer reservations need the Sales Manager's "
            "approval. Reservations expire automatically in the ERP."
        ),
    ),
    DemoQA(
        section="Product availability",
        question="Can I offer an alternative part when something is out of stock?",
        answer=(
            "Offer an NW- own-brand alternative only if Product Management lists it as a "
            "cross-reference in the PIM. Don't invent equivalents; technical doubts go to the "
            "Product Specialists."
        ),
    ),
    DemoQA(
        section="Pricing & discounts",
        question="How much discount am I allowed to give without asking anyone?",
        answer=(
            "Up to 5% off list. Between 5% and 12% you need the Sales Manager's approval, "
            "above 12% the Head of Sales and a margin check."
        ),
        qa_type="validation",
        notes="Validation: paraphrase of 'How much discount can a sales rep give?'.",
    ),
    DemoQA(
        section="Quotes",
        question="For how many days does a normal quote stay valid?",
        answer=(
            "30 days. Project quotes can run up to 12 months with the Sales Manager's approval."
        ),
        qa_type="validation",
        notes="Validation: paraphrase of 'How long is a quote valid?'.",
    ),
    DemoQA(
        section="Key accounts",
        question="What annual spend turns a customer into a key account?",
        answer=(
            "More than €250,000 net per year, unless the Head of Sales nominates a strategic "
            "OEM below that."
        ),
        qa_type="validation",
        notes="Validation: paraphrase of 'What makes a customer a key account?'.",
    ),
    DemoQA(
        section="Shipping & Incoterms",
        question="Who has to approve a DDP delivery?",
        answer=(
            "The Sales Manager, and the quote must include Logistics' freight and duty estimate."
        ),
        qa_type="validation",
        notes="Validation: paraphrase of 'When can we sell DDP?'.",
    ),
    DemoQA(
        section="Pricing & discounts",
        question="What's the lowest gross margin we accept on a deal?",
        answer=(
            "18%. Going below it needs the Head of Sales' approval in the ERP; the quote tool "
            "flags such lines in red."
        ),
        qa_type="validation",
        notes="Validation: paraphrase of 'What is our margin floor?'.",
    ),
)

_SALES_CONVERSATIONS: tuple[DemoConversation, ...] = (
    DemoConversation(
        title="Discount approval for a panel builder",
        status="ready",
        turns=(
            DemoTurn(
                role="user",
                content=(
                    "Customer wants 10% off list on 400 NW-REL plug-in relays. Can I just give "
                    "that?"
                ),
                participant="Jonas (Sales)",
            ),
            DemoTurn(
                role="assistant",
                content=(
                    "Not on your own. The discount matrix is:\n"
                    "\n"
                    "| Discount off list | Who approves |\n"
                    "|---|---|\n"
                    "| up to 5% | you |\n"
                    "| 5–12% | **Sales Manager** (in the ERP) |\n"
                    "| above 12% | **Head of Sales** + margin check |\n"
                    "\n"
                    "So 10% needs the Sales Manager. Check the quote tool too: the margin must "
                    "stay at **18% or more**."
                ),
                participant="Northwind Sales",
                weight=1,
            ),
            DemoTurn(
                role="user",
                content="The quote comes to about €11,800 net. Anything else?",
                participant="Jonas (Sales)",
            ),
            DemoTurn(
                role="assistant",
                content=(
                    "Yes: quotes above **€10,000 net** need a second review by the Sales "
                    "Manager before they go out, and the ERP keeps the quote in *Awaiting "
                    "approval* until then. As the Sales Manager has to approve the 10% anyway, "
                    "ask for both in one request.\n"
                    "\n"
                    "Once it's sent, follow up after **5 working days** and log the result in "
                    "the CRM."
                ),
                participant="Northwind Sales",
                weight=1,
            ),
        ),
    ),
    DemoConversation(
        title="Incoterms for a customer in Basel (corrected)",
        status="ready",
        turns=(
            DemoTurn(
                role="user",
                content=(
                    "A customer in Basel wants delivery 'all costs paid, duties included'. "
                    "Which Incoterm is that and who approves it?"
                ),
                participant="Katrin (Sales Manager)",
            ),
            DemoTurn(
                role="assistant",
                content="That is EXW Venlo, and the rep can agree it without approval.",
                participant="Northwind Sales",
                weight=0,
            ),
            DemoTurn(
                role="user",
                content=(
                    "Wrong. EXW is the opposite, and we don't offer it anyway. Duties included "
                    "means DDP, and that needs my approval."
                ),
                participant="Katrin (Sales Manager)",
            ),
            DemoTurn(
                role="assistant",
                content=(
                    "Correct, apologies. 'All costs and duties paid' is **DDP (Incoterms "
                    "2020)**. For a Swiss customer:\n"
                    "\n"
                    "- DDP needs the **Sales Manager's approval**.\n"
                    "- Logistics provides a **freight and duty estimate**, which must be added "
                    "to the quote, because we pay Swiss import VAT and duties.\n"
                    "- Our default would be **DAP**, where the customer pays import VAT and "
                    "duties.\n"
                    "\n"
                    "We don't offer EXW; if the customer collects, we use **FCA Venlo**."
                ),
                participant="Northwind Sales",
                weight=1,
            ),
            DemoTurn(
                role="user",
                content="Will the invoice help them with customs duty?",
                participant="Katrin (Sales Manager)",
            ),
            DemoTurn(
                role="assistant",
                content=(
                    "Yes. Most NW- products have **EU preferential origin**, and the "
                    "commercial invoice carries the origin declaration, which the Swiss "
                    "importer can use."
                ),
                participant="Northwind Sales",
                weight=1,
            ),
        ),
        notes=(
            "Shows a correction: the first answer confused EXW with DDP and skipped the approval."
        ),
    ),
    DemoConversation(
        title="What changes when a customer becomes a key account",
        status="ready",
        turns=(
            DemoTurn(
                role="user",
                content=(
                    "Kessler Maschinenbau (customer 40218) spent €310k with us last year. What "
                    "changes for them?"
                ),
                participant="Maria (Sales)",
            ),
            DemoTurn(
                role="assistant",
                content=(
                    "Above €250,000 annual net spend they qualify as a **key account**:\n"
                    "\n"
                    "- a dedicated **key account manager** and a named contact in Customer "
                    "Service;\n"
                    "- a **customer-specific price list**, reviewed every January;\n"
                    "- first response within **2 business hours** and priority in the RMA "
                    "queue;\n"
                    "- **quarterly business reviews**;\n"
                    "- with a signed framework agreement, a **1% annual rebate** (2% from "
                    "€500,000), paid as a credit note in January."
                ),
                participant="Northwind Sales",
                weight=1,
            ),
            DemoTurn(
                role="user",
                content="They're also asking for consignment stock. Possible?",
                participant="Maria (Sales)",
            ),
            DemoTurn(
                role="assistant",
                content=(
                    "Not yet. Consignment stock or Kanban needs **more than €500,000** annual "
                    "spend, a signed framework agreement and the **Logistics Manager's "
                    "approval** of site and stock list.\n"
                    "\n"
                    "At €310k, offer a **12-month framework agreement** with a blanket order "
                    "instead: we then hold safety stock for up to 3 months of their forecast."
                ),
                participant="Northwind Sales",
                weight=1,
            ),
            DemoTurn(
                role="user",
                content="Can they order by EDI?",
                participant="Maria (Sales)",
            ),
            DemoTurn(
                role="assistant",
                content=(
                    "Yes. Sales Operations sets up EDIFACT (ORDERS, ORDRSP, DESADV, INVOIC); "
                    "plan about **4 to 6 weeks** for setup and testing."
                ),
                participant="Northwind Sales",
                weight=1,
            ),
        ),
    ),
    DemoConversation(
        title="Copper surcharge on a long-running project quote",
        status="draft",
        turns=(
            DemoTurn(
                role="user",
                content=(
                    "Can I fix the price of NW-CON cable assemblies for a 6-month project quote?"
                ),
                participant="Jonas (Sales)",
            ),
            DemoTurn(
                role="assistant",
                content=(
                    "Partly. A project quote can be valid for up to **12 months** with the "
                    "Sales Manager's approval, so 6 months is fine. But the **copper "
                    "surcharge** is adjusted monthly and is not fixed for the quote's validity "
                    "unless the Sales Manager agrees, so show it as a separate line.\n"
                    "\n"
                    "Also remember that custom cable assemblies are **NCNR** – say so on the "
                    "quote lines."
                ),
                participant="Northwind Sales",
                weight=1,
            ),
            DemoTurn(
                role="user",
                content="Who agrees to fixing the surcharge?",
                participant="Jonas (Sales)",
            ),
            DemoTurn(
                role="assistant",
                content=(
                    "The **Sales Manager**. Add the copper share and the risk to your approval "
                    "request so they can decide."
                ),
                participant="Northwind Sales",
                weight=1,
            ),
        ),
        notes="Draft: the Head of Sales still has to confirm who may fix the copper surcharge.",
    ),
)

# --- Support -----------------------------------------------------------------------------------

_SUPPORT_QAS: tuple[DemoQA, ...] = (
    DemoQA(
        section="RMA & returns",
        question="How does a customer raise an RMA?",
        answer=(
            "In the RMA portal, linked under 'My orders' in the web shop: the customer selects "
            "the order, item, quantity and reason code, and adds photos for damage claims. "
            "Support checks the request and issues the RMA number within 1 working day."
        ),
    ),
    DemoQA(
        section="RMA & returns",
        question=(
            "How long does the customer have to send the goods back after the RMA is issued?"
        ),
        answer=(
            "10 working days from the date the RMA number is issued. After that the RMA "
            "expires and the customer has to raise a new one in the RMA portal."
        ),
        notes=(
            "Planted near-duplicate (1 of 2): same meaning as the next question, worded "
            "differently. The duplicate check should propose merging them."
        ),
    ),
    DemoQA(
        section="RMA & returns",
        question=(
            "how long does a customer have to send goods back once the RMA has been issued??"
        ),
        answer=(
            "10 working days from the date the RMA number is issued. After that the RMA "
            "expires and the customer has to raise a new one in the RMA portal."
        ),
        notes=(
            "Planted near-duplicate (2 of 2): rewording of the previous question with "
            "different punctuation and the same answer."
        ),
    ),
    DemoQA(
        section="RMA & returns",
        question="How many days do customers have to return unwanted goods?",
        answer=(
            "Customers can return unwanted stock items within 14 days of delivery, unused and "
            "in the original packaging, with an RMA number from the RMA portal. A 15% "
            "restocking fee applies."
        ),
        notes=(
            "Planted conflict: same question text as in Northwind Master, which gives the "
            "current 30-day rule. This 14-day answer is the outdated pre-2024 policy and "
            "should be flagged by the conflict check."
        ),
    ),
    DemoQA(
        section="RMA & returns",
        question="What do we do if the RMA portal is down?",
        answer=(
            "Customers can write to rma-desk@example.com with order number, item code, "
            "quantity and reason, and Support creates the RMA manually once the portal is "
            "back. Tell the customer the RMA number will follow within 1 working day."
        ),
        notes=(
            "Planted personal-data example: contains an e-mail address (example.com) so the "
            "personal-data check has something to flag."
        ),
    ),
    DemoQA(
        section="RMA & returns",
        question="Which RMA reason codes are there?",
        answer=(
            "DEF (defective), DOA (dead on arrival), WRG (wrong item shipped), DMG (transport "
            "damage), SHT (short delivery) and UNW (unwanted). The code decides who pays the "
            "return shipping and whether a restocking fee applies."
        ),
    ),
    DemoQA(
        section="RMA & returns",
        question="Who pays the return shipping?",
        answer=(
            "For DEF, DOA, WRG, DMG and SHT cases within the EU the RMA portal generates a "
            "prepaid DPD return label at our cost. For UNW (commercial returns) the customer "
            "arranges and pays the shipping."
        ),
    ),
    DemoQA(
        section="RMA & returns",
        question="How much is the restocking fee and can it be waived?",
        answer=(
            "15% of the returned goods' value, minimum €25 per RMA, for UNW returns only. The "
            "Support Team Lead can waive it when the customer ordered the wrong part on our "
            "advice."
        ),
    ),
    DemoQA(
        section="RMA & returns",
        question="What happens to a parcel that arrives without an RMA number?",
        answer=(
            "Goods-in in Venlo refuses it or sends it back at the customer's cost. Ask the "
            "customer to raise an RMA first and to write the RMA number on the outside of the "
            "parcel."
        ),
    ),
    DemoQA(
        section="RMA & returns",
        question="How do we handle a short delivery?",
        answer=(
            "The customer must report it within 5 working days of delivery with reason code "
            "SHT. Venlo checks the packing weight record, and if the shortage is confirmed we "
            "ship the missing quantity by express at our cost."
        ),
    ),
    DemoQA(
        section="RMA & returns",
        question="How do we handle transport damage?",
        answer=(
            "The customer reports it within 5 working days of delivery in the RMA portal with "
            "reason code DMG and photos of the parcel and goods. Once Support has checked the "
            "photos, we ship the replacement without waiting for the carrier claim."
        ),
    ),
    DemoQA(
        section="RMA & returns",
        question="What counts as DOA and what do we do?",
        answer=(
            "An item that fails at first installation within 30 days of delivery is DOA. For "
            "stock items we ship a replacement immediately, before the faulty unit comes back."
        ),
    ),
    DemoQA(
        section="RMA & returns",
        question="Can a customer return an opened reel or part of a pack?",
        answer=(
            "Not as a commercial return: reels and packs are accepted only complete and "
            "sealed. Defective parts from an opened reel are handled as a DEF warranty RMA."
        ),
    ),
    DemoQA(
        section="RMA & returns",
        question="When is the credit note issued after a return?",
        answer=(
            "Within 5 working days after the goods arrive in Venlo and pass inspection. It is "
            "offset against open invoices or refunded to the original payment method."
        ),
    ),
    DemoQA(
        section="Warranty",
        question="What warranty period applies?",
        answer=(
            "24 months from delivery for NW- own-brand products and 36 months for NW-PSU power "
            "supplies. Third-party brands carry the manufacturer's warranty, usually 12 to 24 "
            "months, as shown on the product page."
        ),
    ),
    DemoQA(
        section="Warranty",
        question="When does the warranty start?",
        answer=(
            "On the delivery date shown on the carrier's proof of delivery, or on the "
            "collection date for FCA Venlo orders. The RMA portal calculates it automatically "
            "from the order."
        ),
    ),
    DemoQA(
        section="Warranty",
        question="What happens to a warranty return in Venlo?",
        answer=(
            "The QA lab in Venlo tests the unit within 10 working days. Depending on the "
            "result we replace it, repair it or issue a credit note, and Support informs the "
            "customer through the RMA portal."
        ),
    ),
    DemoQA(
        section="Warranty",
        question="What if the QA lab finds no fault?",
        answer=(
            "We send the item back at the customer's cost and charge a €40 test fee per RMA "
            "line. Mention this fee to the customer when you issue a DEF RMA."
        ),
    ),
    DemoQA(
        section="Warranty",
        question="What voids the warranty?",
        answer=(
            "Wrong wiring, overvoltage, mechanical damage, use beyond the datasheet ratings "
            "and opened housings. Normal contact wear on relays beyond their rated electrical "
            "life is not a defect."
        ),
    ),
    DemoQA(
        section="Warranty",
        question="How do we handle warranty claims on third-party brands?",
        answer=(
            "Through the same RMA process; we pass the unit to the manufacturer, whose "
            "analysis can take 4 to 8 weeks. If the customer's line is down, offer a "
            "replacement as a normal order and credit it if the claim is accepted."
        ),
    ),
    DemoQA(
        section="Warranty",
        question="Do we repair items that are out of warranty?",
        answer=(
            "No. We offer a replacement at the customer's current price; for key accounts the "
            "Support Team Lead can approve a 20% goodwill discount."
        ),
    ),
    DemoQA(
        section="Warranty",
        question="When do we open an 8D report?",
        answer=(
            "When the same NW- part fails 3 or more times at one customer within 6 months. The "
            "Quality Manager opens the 8D, and the customer gets the containment response (D3) "
            "within 5 working days."
        ),
    ),
    DemoQA(
        section="Technical: connectors",
        question="Which M12 codings are there and what are they for?",
        answer=(
            "A-coded for sensors and actuators (3 to 8 pins), D-coded for 100 Mbit/s Ethernet, "
            "X-coded for Ethernet up to 10 Gbit/s and L-coded for power up to 16 A. The "
            "codings are mechanically incompatible, so a D-coded plug does not fit an A-coded "
            "socket."
        ),
    ),
    DemoQA(
        section="Technical: connectors",
        question="When is an NW-CON M12 connector really IP67?",
        answer=(
            "Only when it is mated and the coupling nut is tightened to 0.6 Nm. Unused sockets "
            "need the NW-CON protection cap to stay IP67."
        ),
    ),
    DemoQA(
        section="Technical: connectors",
        question="Which wire sizes fit our pluggable terminal blocks?",
        answer=(
            "The NW-CON 5.08 mm pitch terminal blocks take 0.2 to 2.5 mm² (24 to 12 AWG) and "
            "are rated 12 A. Use ferrules on stranded wire."
        ),
    ),
    DemoQA(
        section="Technical: connectors",
        question="Do we build custom cable assemblies?",
        answer=(
            "Yes, in Venlo to the customer's drawing, minimum 25 pieces, lead time 10 working "
            "days. They are NCNR and cannot be returned as unwanted goods."
        ),
    ),
    DemoQA(
        section="Technical: connectors",
        question="How many mating cycles are NW-CON M12 connectors rated for?",
        answer=(
            "At least 100 mating cycles. Higher wear usually comes from misalignment or "
            "overtightening, which the warranty does not cover."
        ),
    ),
    DemoQA(
        section="Technical: sensors",
        question="What do the wire colours on a 3-wire sensor mean?",
        answer=(
            "Per IEC 60947-5-2: brown is +V (10 to 30 V DC), blue is 0 V and black is the "
            "switching output. On 4-wire versions white is the second, complementary output."
        ),
    ),
    DemoQA(
        section="Technical: sensors",
        question="What's the difference between PNP and NPN sensors?",
        answer=(
            "A PNP output switches the load to +V and is the standard in Europe; an NPN output "
            "switches to 0 V and is common with Asian PLCs. In NW-SEN part numbers the suffix "
            "-P means PNP and -N means NPN."
        ),
    ),
    DemoQA(
        section="Technical: sensors",
        question="Flush or non-flush sensor: what's the difference?",
        answer=(
            "Flush sensors can be mounted flush in metal but have a shorter range, for example "
            "2 mm for an M12; non-flush sensors need a free zone around the head and reach 4 "
            "mm at M12. The datasheet gives the exact distances."
        ),
    ),
    DemoQA(
        section="Technical: sensors",
        question="Why does an inductive sensor detect aluminium only at short distance?",
        answer=(
            "The rated sensing distance applies to mild steel. For stainless steel it drops to "
            "about 70%, for aluminium to about 40% and for copper to about 30%; check the "
            "correction factors in the datasheet before treating it as a fault."
        ),
    ),
    DemoQA(
        section="Technical: sensors",
        question="What does a flashing yellow LED on an NW-SEN inductive sensor mean?",
        answer=(
            "A steady yellow LED means the output is switched; a flashing yellow LED means a "
            "short circuit or overload on the output. Ask the customer to disconnect the load "
            "and check the wiring before raising an RMA."
        ),
    ),
    DemoQA(
        section="Technical: sensors",
        question="A PT100 reading is way off. What should we check first?",
        answer=(
            "That the input module is set to the right sensor type: NW-SEN temperature probes "
            "come as PT100 and PT1000, and a PT1000 on a PT100 input reads far too high. Then "
            "check 2-, 3- or 4-wire connection matches the module."
        ),
    ),
    DemoQA(
        section="Technical: relays",
        question="Does a relay with a DC coil need a freewheeling diode?",
        answer=(
            "Yes, a diode or suppressor protects the PLC output or transistor driving the "
            "coil. NW-REL sockets with the suffix -D have it built in, and then polarity "
            "matters: A1 is +."
        ),
    ),
    DemoQA(
        section="Technical: relays",
        question="What load can an NW-REL plug-in relay switch?",
        answer=(
            "10 A at 250 V AC for resistive loads. For DC and inductive loads the limit is "
            "much lower, for example 0.5 A at 110 V DC; see the load-limit curve in the "
            "datasheet."
        ),
    ),
    DemoQA(
        section="Technical: relays",
        question="How long do NW-REL relays last?",
        answer=(
            "Mechanical life is 10 million operations and electrical life about 100,000 "
            "operations at rated resistive load. Welded or worn contacts after heavy use are "
            "wear, not a warranty defect."
        ),
    ),
    DemoQA(
        section="Technical: relays",
        question="Do solid-state relays need a heat sink?",
        answer=(
            "Yes, above about 5 A load current. Without a heat sink an SSR overheats and "
            "usually fails short-circuited; the NW-REL SSR datasheet shows the derating curve "
            "per heat sink."
        ),
    ),
    DemoQA(
        section="Technical: relays",
        question="Can Support confirm a customer's safety relay circuit?",
        answer=(
            "No. NW-REL safety relays reach PL e / SIL 3 only when wired as shown in the "
            "datasheet, and we never approve a customer's safety circuit by chat or phone. "
            "Send safety design questions to the Product Specialists."
        ),
    ),
    DemoQA(
        section="Technical: power supplies",
        question="Can the output voltage of an NW-PSU be adjusted?",
        answer=(
            "Yes, NW-PSU DIN-rail units deliver 24 V DC, adjustable from 24 to 28 V with the "
            "front potentiometer. Raising the voltage lowers the available current so the "
            "power stays within the rating."
        ),
    ),
    DemoQA(
        section="Technical: power supplies",
        question="Which power ratings does the NW-PSU range have?",
        answer=(
            "60 W, 120 W, 240 W and 480 W, all 24 V DC on DIN rail. Efficiency is up to 94% on "
            "the 240 W and 480 W models."
        ),
    ),
    DemoQA(
        section="Technical: power supplies",
        question="What input voltage do NW-PSU units accept?",
        answer=(
            "100 to 240 V AC nominal (85 to 264 V AC range), and on most models 110 to 340 V "
            "DC. Check the datasheet to see whether DC input is approved for the specific "
            "model."
        ),
    ),
    DemoQA(
        section="Technical: power supplies",
        question="At what temperature do NW-PSU units need derating?",
        answer=(
            "Full power is available up to 50 °C ambient; above that, derate by 2.5% per °C up "
            "to 70 °C. Keep 25 mm clearance above and below the unit."
        ),
    ),
    DemoQA(
        section="Technical: power supplies",
        question="Can two NW-PSU units be connected in parallel?",
        answer=(
            "Only models with the suffix 'P', with output voltages set within 0.1 V of each "
            "other. For real redundancy use the NW-PSU redundancy module."
        ),
    ),
    DemoQA(
        section="Technical: power supplies",
        question="What does the DC OK LED on an NW-PSU tell us?",
        answer=(
            "Green means the output is above 90% of the set voltage. Red or off with input "
            "present usually means overload or short circuit; the unit restarts automatically "
            "(hiccup mode) once the fault is removed."
        ),
    ),
    DemoQA(
        section="Order tracking",
        question="Where can a customer see the status of their order?",
        answer=(
            "Under 'My orders' in the web shop, which shows the ERP status: Confirmed, "
            "Picking, Shipped or Delivered. Once shipped, the tracking link appears there as "
            "well."
        ),
    ),
    DemoQA(
        section="Order tracking",
        question="A parcel hasn't moved in tracking. What do I do?",
        answer=(
            "If there has been no scan for 2 working days, open an investigation in the "
            "carrier portal and tell the customer. If the parcel is not found after 7 working "
            "days, we declare it lost and reship at our cost."
        ),
    ),
    DemoQA(
        section="Order tracking",
        question="The customer says the parcel was delivered but they don't have it. What now?",
        answer=(
            "Get the proof of delivery from the carrier portal, with signature and GPS "
            "location, and send it to the customer. If they still can't find it after checking "
            "with their goods-in, open a carrier claim and ask the Support Team Lead about "
            "reshipping."
        ),
    ),
    DemoQA(
        section="Order tracking",
        question="Can we change the delivery address of an order?",
        answer=(
            "Before dispatch, Customer Service can change it in the ERP until the order "
            "reaches 'Picking'. After dispatch the change goes through the carrier's portal "
            "and may cost a fee."
        ),
    ),
    DemoQA(
        section="Order tracking",
        question="How do we keep customers informed about backorders?",
        answer=(
            "The ERP shows the expected date on the order line, which for non-stock items is "
            "the supplier-confirmed date. If that date moves, the ERP notifies the customer "
            "automatically; for key accounts Support adds a personal note."
        ),
    ),
    DemoQA(
        section="Order tracking",
        question="The customer never got the dispatch notification. Can we resend it?",
        answer=(
            "Yes, use 'Resend dispatch notification' on the shipment in the ERP. It goes to "
            "the order contact stored in the ERP; if that contact is wrong, Customer Service "
            "corrects it first."
        ),
    ),
    DemoQA(
        section="Escalation & service levels",
        question="What are the support desk's hours and response times?",
        answer=(
            "Monday to Friday, 08:00–18:00 CET. First response within 4 business hours for "
            "tickets and within 2 minutes for web chat; key accounts get a first response "
            "within 2 business hours."
        ),
    ),
    DemoQA(
        section="Escalation & service levels",
        question="What is the escalation path in Support?",
        answer=(
            "Support desk (first level), then the Product Specialists for technical issues, "
            "then the Support Team Lead, then the Head of Customer Service. Complaints worth "
            "more than €5,000 or any threat of legal action go straight to the Head of "
            "Customer Service."
        ),
    ),
    DemoQA(
        section="Escalation & service levels",
        question="What do I do if a customer reports overheating, fire or an electric shock?",
        answer=(
            "Call the Quality Manager immediately and log the ticket with priority 'Safety' in "
            "the helpdesk. Ask the customer to isolate the unit and keep it, and give no "
            "technical advice on the failed part."
        ),
    ),
    DemoQA(
        section="Escalation & service levels",
        question="How do I handle a customer who is very angry?",
        answer=(
            "Acknowledge the problem, apologise once, and give a concrete next step with a "
            "time. If they ask for a manager, hand the ticket to the Support Team Lead with a "
            "short summary."
        ),
    ),
    DemoQA(
        section="Escalation & service levels",
        question="What happens with my open tickets when I'm off?",
        answer=(
            "Reassign them with a handover note in the helpdesk before you leave. No ticket "
            "may sit unassigned for more than 1 business hour."
        ),
    ),
    DemoQA(
        section="Escalation & service levels",
        question="How quickly do the Product Specialists answer?",
        answer=(
            "They aim to answer within 1 working day, and within 3 working days for complex "
            "application questions. Tell the customer which of the two applies."
        ),
    ),
    DemoQA(
        section="Certificates",
        question="A customer needs a RoHS certificate for an NW-CON part. Where do I get it?",
        answer=(
            "On the 'Downloads' tab of the product page in the web shop. If it is missing "
            "there, open a ticket in the helpdesk queue 'Compliance'; the team answers within "
            "3 working days."
        ),
    ),
    DemoQA(
        section="Certificates",
        question="How current are our REACH declarations?",
        answer=(
            "Every NW- product's REACH SVHC declaration is updated within 8 weeks of each ECHA "
            "Candidate List update, normally in January and June. Any SVHC above 0.1% by "
            "weight is named."
        ),
    ),
    DemoQA(
        section="Certificates",
        question="Can we provide conflict-minerals reports?",
        answer=(
            "Yes. CMRT and EMRT reports for NW- products are provided on request through the "
            "'Compliance' queue within 10 working days; for third-party brands we forward the "
            "manufacturer's report."
        ),
    ),
    DemoQA(
        section="Certificates",
        question=(
            "A customer wants a Certificate of Conformity for a delivery that has already "
            "shipped. Is that possible?"
        ),
        answer=(
            "Yes, for €25 per certificate, because it was not requested with the order. "
            "Customer Service creates it from the shipment in the ERP."
        ),
    ),
    DemoQA(
        section="RMA & returns",
        question="How quickly do we issue an RMA number once the request is in the portal?",
        answer="Within 1 working day after Support has checked the request in the RMA portal.",
        qa_type="validation",
        notes="Validation: paraphrase of 'How does a customer raise an RMA?'.",
    ),
    DemoQA(
        section="Warranty",
        question="What's the warranty on an NW-PSU power supply?",
        answer="36 months from delivery; other NW- own-brand products have 24 months.",
        qa_type="validation",
        notes="Validation: paraphrase of 'What warranty period applies?'.",
    ),
    DemoQA(
        section="Technical: sensors",
        question="An NW-SEN proximity sensor has a blinking yellow LED. What does that mean?",
        answer=(
            "A short circuit or overload on the output. The customer should disconnect the "
            "load and check the wiring before an RMA is raised."
        ),
        qa_type="validation",
        notes=(
            "Validation: paraphrase of 'What does a flashing yellow LED on an NW-SEN inductive "
            "sensor mean?'."
        ),
    ),
    DemoQA(
        section="Order tracking",
        question="The tracking link hasn't updated for two working days. What should I do?",
        answer=(
            "Open an investigation in the carrier portal and inform the customer; if the "
            "parcel isn't found after 7 working days, we declare it lost and reship at our "
            "cost."
        ),
        qa_type="validation",
        notes="Validation: paraphrase of 'A parcel hasn't moved in tracking. What do I do?'.",
    ),
    DemoQA(
        section="Warranty",
        question="What do we charge if the lab finds nothing wrong with a returned unit?",
        answer=(
            "A €40 test fee per RMA line, and the item goes back to the customer at their cost."
        ),
        qa_type="validation",
        notes="Validation: paraphrase of 'What if the QA lab finds no fault?'.",
    ),
)

_SUPPORT_CONVERSATIONS: tuple[DemoConversation, ...] = (
    DemoConversation(
        title="Inductive sensor does not detect an aluminium flag",
        status="ready",
        turns=(
            DemoTurn(
                role="user",
                content=(
                    "Customer says an NW-SEN M12 non-flush sensor doesn't detect their "
                    "aluminium flag at 3 mm and wants an RMA."
                ),
                participant="Tomasz (Support)",
            ),
            DemoTurn(
                role="assistant",
                content=(
                    "This is most likely **not a defect**. The rated 4 mm for an M12 non-flush "
                    "sensor applies to mild steel; for aluminium the factor is about **40%**, "
                    "so roughly 1.6 mm.\n"
                    "\n"
                    "Before raising an RMA, ask the customer to:\n"
                    "1. confirm the target material and distance;\n"
                    "2. check the yellow LED when the flag is in front of the sensor;\n"
                    "3. check the wiring: **brown** +V, **blue** 0 V, **black** output.\n"
                    "\n"
                    "If they need 3 mm on aluminium, suggest a steel flag or a larger sensor."
                ),
                participant="Northwind Support",
                weight=1,
            ),
            DemoTurn(
                role="user",
                content="They say the LED is flashing yellow.",
                participant="Tomasz (Support)",
            ),
            DemoTurn(
                role="assistant",
                content=(
                    "A **flashing yellow LED** means a **short circuit or overload** on the "
                    "output, so the sensor is protecting itself. Ask them to disconnect the "
                    "load and check the output wiring.\n"
                    "\n"
                    "If it still flashes with no load connected, raise a **DEF** RMA and "
                    "mention the **€40 test fee** per RMA line in case the QA lab finds no "
                    "fault."
                ),
                participant="Northwind Support",
                weight=1,
            ),
        ),
    ),
    DemoConversation(
        title="Warranty on a 30-month-old power supply (corrected)",
        status="ready",
        turns=(
            DemoTurn(
                role="user",
                content=(
                    "An NW-PSU 240 W unit failed after 30 months. Is it still under warranty?"
                ),
                participant="Sophie (Support)",
            ),
            DemoTurn(
                role="assistant",
                content=(
                    "No. NW- own-brand products have a 24-month warranty, so at 30 months the "
                    "unit is out of warranty. Offer a replacement at the customer's current "
                    "price."
                ),
                participant="Northwind Support",
                weight=0,
            ),
            DemoTurn(
                role="user",
                content="Power supplies are different, they have 36 months.",
                participant="Sophie (Support)",
            ),
            DemoTurn(
                role="assistant",
                content=(
                    "You're right, my mistake: **NW-PSU power supplies have 36 months** from "
                    "delivery, so a unit at 30 months is covered.\n"
                    "\n"
                    "Next steps:\n"
                    "1. Raise a **DEF** RMA in the RMA portal; within the EU it generates a "
                    "**prepaid DPD label**.\n"
                    "2. The QA lab in Venlo tests it within **10 working days**, then we "
                    "replace, repair or credit.\n"
                    "3. Tell the customer about the **€40 test fee** if no fault is found.\n"
                    "\n"
                    "Ask whether there was overvoltage or a wiring change, as that voids the "
                    "warranty."
                ),
                participant="Northwind Support",
                weight=1,
            ),
            DemoTurn(
                role="user",
                content=(
                    "Their line is down. Can we send a replacement before the faulty unit "
                    "comes back?"
                ),
                participant="Sophie (Support)",
            ),
            DemoTurn(
                role="assistant",
                content=(
                    "Advance replacement is automatic only for **DOA** cases (failure at first "
                    "installation within 30 days of delivery), so this one doesn't qualify.\n"
                    "\n"
                    "Offer a replacement as a **normal order** instead: if it's confirmed by "
                    "**15:00 CET** it leaves Venlo today, and with express (**€25**) it "
                    "arrives by 12:00 tomorrow in most EU countries. If the warranty claim is "
                    "accepted, we credit that order."
                ),
                participant="Northwind Support",
                weight=1,
            ),
        ),
        notes=(
            "Shows a correction: the first answer applied the 24-month own-brand warranty to "
            "an NW-PSU."
        ),
    ),
    DemoConversation(
        title="Parcel to Porto stuck in transit",
        status="ready",
        turns=(
            DemoTurn(
                role="user",
                content=(
                    "Order for a customer in Porto shows 'Shipped' but there's been no "
                    "tracking scan since Monday. Today is Wednesday."
                ),
                participant="Tomasz (Support)",
            ),
            DemoTurn(
                role="assistant",
                content=(
                    "That's **2 working days without a scan**, so:\n"
                    "\n"
                    "1. Open an **investigation in the carrier portal** today.\n"
                    "2. Tell the customer that we are investigating and when you will update "
                    "them.\n"
                    "3. If the parcel isn't found after **7 working days**, we declare it lost "
                    "and **reship at our cost**."
                ),
                participant="Northwind Support",
                weight=1,
            ),
            DemoTurn(
                role="user",
                content=(
                    "They say their production stops on Friday without these relays. Can we do "
                    "more?"
                ),
                participant="Tomasz (Support)",
            ),
            DemoTurn(
                role="assistant",
                content=(
                    "Don't promise Friday unless it is confirmed. Ask the **Support Team "
                    "Lead** whether we reship now by express at our cost instead of waiting "
                    "the 7 working days. If approved and the order is confirmed by 15:00 CET, "
                    "express delivers by 12:00 on the next working day to most EU "
                    "destinations.\n"
                    "\n"
                    "If the customer claims costs above **€5,000**, escalate to the Head of "
                    "Customer Service."
                ),
                participant="Northwind Support",
                weight=1,
            ),
        ),
    ),
    DemoConversation(
        title="Wrong M12 coding delivered",
        status="draft",
        turns=(
            DemoTurn(
                role="user",
                content=(
                    "Customer received D-coded M12 cables but says they ordered A-coded. Which "
                    "reason code?"
                ),
                participant="Sophie (Support)",
            ),
            DemoTurn(
                role="assistant",
                content=(
                    "Check the order line in the ERP first:\n"
                    "\n"
                    "- If the order line says **A-coded**, we picked wrong: reason code "
                    "**WRG**.\n"
                    "- If it says **D-coded**, the customer ordered wrong: **UNW**, a "
                    "commercial return within 30 days of delivery with the 15% restocking fee "
                    "(minimum €25) and return shipping at their cost."
                ),
                participant="Northwind Support",
                weight=1,
            ),
            DemoTurn(
                role="user",
                content="The order line says A-coded, so it's on us.",
                participant="Sophie (Support)",
            ),
            DemoTurn(
                role="assistant",
                content=(
                    "Then it's **WRG**: no fee for the customer, the RMA portal creates a "
                    "**prepaid return label**, and we send the A-coded cables **by express at "
                    "our cost**. Apologise once and tell the customer when the replacement "
                    "will arrive."
                ),
                participant="Northwind Support",
                weight=1,
            ),
        ),
        notes="Draft: checking with Venlo whether WRG cases also need a picking-error report.",
    ),
)

# --- Models ------------------------------------------------------------------------------------

MODELS: tuple[DemoModel, ...] = (
    DemoModel(
        name="Northwind Master",
        notes=(
            "Company-wide arbiter: company facts, ordering, payment, delivery, returns basics, "
            "tone of voice and data protection. It aggregates the training of Northwind Sales "
            "and Northwind Support, so a new version of this model also learns what the "
            "department arbiters learned. Owner: Operations (Handbook team)."
        ),
        system_message=(
            "You are Northwind Master, the internal knowledge assistant of Northwind "
            "Components Ltd., a European B2B distributor of connectors, sensors, relays and "
            "power supplies. You answer questions from Northwind staff about company facts, "
            "ordering, payment, delivery, returns, brand tone and data protection. Reply in "
            "the language of the question, in a friendly, direct and factual tone, and keep "
            "answers short. Use only Northwind's documented rules; if you are not sure, say so "
            "and name the team that owns the topic instead of guessing. Never ask for or "
            "repeat personal data such as e-mail addresses, phone numbers or bank details."
        ),
        parent=None,
        inherit_parent_training=False,
        aggregate_children_training=True,
        qas=_MASTER_QAS,
        conversations=_MASTER_CONVERSATIONS,
    ),
    DemoModel(
        name="Northwind Sales",
        notes=(
            "Department arbiter for the sales reps in Munich, Lyon, Wrocław and Dublin and for "
            "Sales Operations. Inherits the company-wide training of Northwind Master and adds "
            "pricing, quote, key-account and Incoterms rules. Owner: Head of Sales; trainer: "
            "Sales Operations."
        ),
        system_message=(
            "You are Northwind Sales, the assistant for the sales reps and Sales Operations "
            "team of Northwind Components Ltd. You help with pricing, discount approvals, "
            "quotes, key accounts, credit and shipping terms. Always say who must approve a "
            "discount or term that goes beyond a rep's own authority, and never suggest a "
            "price below the 18% gross margin floor. Quote prices in EUR net of VAT and use "
            "Incoterms 2020 terms. Answer in the user's language, briefly and with concrete "
            "numbers."
        ),
        parent="Northwind Master",
        inherit_parent_training=True,
        aggregate_children_training=False,
        qas=_SALES_QAS,
        conversations=_SALES_CONVERSATIONS,
    ),
    DemoModel(
        name="Northwind Support",
        notes=(
            "Department arbiter for the first-level support desk and the Product Specialists "
            "(second level). Inherits the company-wide training of Northwind Master and adds "
            "RMA, warranty, tracking and product-family knowledge. Contains three deliberately "
            "planted problems for the clean-up demo: a near-duplicate pair, a conflict with "
            "Northwind Master and one answer with an example e-mail address. Owner: Head of "
            "Customer Service."
        ),
        system_message=(
            "You are Northwind Support, the assistant for the support desk and Product "
            "Specialists of Northwind Components Ltd. You help with RMAs and returns, "
            "warranty, order tracking and technical questions about the NW-CON, NW-SEN, NW-REL "
            "and NW-PSU product families. Give step-by-step answers when a process is involved "
            "and always say when a case must be escalated. Do not approve safety circuits or "
            "guess technical values that are not in the datasheet; refer those to the Product "
            "Specialists. Answer in the user's language, calmly and precisely."
        ),
        parent="Northwind Master",
        inherit_parent_training=True,
        aggregate_children_training=False,
        qas=_SUPPORT_QAS,
        conversations=_SUPPORT_CONVERSATIONS,
    ),
    DemoModel(
        name="Northwind Writing Assistant",
        notes=(
            "Helps staff draft and polish e-mails, quote cover letters and internal notes. It "
            "is not fine-tuned: it runs on the base model with this system message only and "
            "has no Northwind training data, so facts must be checked with Northwind Master, "
            "Sales or Support."
        ),
        system_message=(
            "You are Northwind Writing Assistant, a writing helper for the staff of Northwind "
            "Components Ltd. You draft and polish customer e-mails, quote cover letters and "
            "internal notes in English, German, French, Dutch or Polish. Follow Northwind's "
            "tone: friendly, direct and factual, formal address, no slang. You do not know "
            "Northwind's prices, policies or order data, so never invent them; ask the user "
            "for the facts or leave a clearly marked gap for them to fill in. Never add e-mail "
            "addresses, phone numbers or bank details yourself."
        ),
        parent=None,
        inherit_parent_training=False,
        aggregate_children_training=False,
        qas=(),
        conversations=(),
        kind="assistant",
    ),
)

# --- Group chat and transcripts ----------------------------------------------------------------

CHAT_GROUP_TITLE: str = "Sales floor"

CHAT_OPENING: tuple[tuple[str, str], ...] = (
    (
        "manager",
        (
            "Morning all. From today Northwind Sales is live in this group: ask it before "
            "digging through the Handbook, and flag anything it gets wrong."
        ),
    ),
    (
        "trainer",
        (
            "It's trained on the new discount matrix and the Incoterms rules. If an answer "
            "looks off, reply with the correct rule and I'll add it to the next version."
        ),
    ),
    ("trainer", "@Northwind Sales what is our minimum order value?"),
    (
        "manager",
        (
            "Reminder: customer and order numbers only in this chat, no contact names, e-mail "
            "addresses or phone numbers."
        ),
    ),
)

# Six support-desk chats in OpenAI chat format, one JSON object per line. The fourth one
# contains a fake customer e-mail address (example.com) for the personal-data warning.
TRANSCRIPTS_JSONL: str = (
    '{"messages": [{"role": "user", "content": "Hello, one of the NW-REL plug-in relays we '
    'bought in March has stopped switching. Order SO-24-118734. What do we do?"}, {"role": '
    '"assistant", "content": "I\'m sorry to hear that. Please raise an RMA in the RMA portal '
    "under 'My orders', select the relay, quantity 1 and reason code DEF, and describe the "
    'fault. We will issue the RMA number within 1 working day."}, {"role": "user", "content": '
    '"Done. Do we pay for the shipping back?"}, {"role": "assistant", "content": "No, for a '
    "defective item within the EU the RMA portal creates a prepaid return label. Please send "
    "the relay within 10 working days of the RMA being issued. If our lab finds no fault, "
    'there is a €40 test fee per RMA line."}]}\n'
    '{"messages": [{"role": "user", "content": "Our order SO-24-120511 was shipped last '
    'Thursday but tracking hasn\'t changed since Friday."}, {"role": "assistant", "content": '
    '"Thank you for letting us know. I have opened an investigation with the carrier and will '
    'update you by 12:00 tomorrow."}, {"role": "user", "content": "And if it\'s lost?"}, '
    '{"role": "assistant", "content": "If the carrier cannot find it within 7 working days, we '
    "declare it lost and reship the order at our cost. You do not need to place a new "
    'order."}]}\n'
    '{"messages": [{"role": "user", "content": "We need the RoHS and REACH declarations for '
    'NW-CON-M12A-5F-2M for a customer audit."}, {"role": "assistant", "content": "Both are on '
    "the 'Downloads' tab of the product page in the web shop. The REACH SVHC declaration was "
    'updated after the January Candidate List update."}, {"role": "user", "content": "I can '
    'only see the datasheet there."}, {"role": "assistant", "content": "Thank you for '
    "checking. I have asked our Compliance team for the documents; they answer within 3 "
    'working days and I will send both declarations to you as soon as I have them."}]}\n'
    '{"messages": [{"role": "user", "content": "Hi, this is Jan Novák from Novák Automatizace, '
    "customer 40877. Please send all our invoices to jan.novak@example.com from now on, and "
    'resend last month\'s."}, {"role": "assistant", "content": "Thank you. Changes to the '
    "invoice address have to come in writing from your company's account administrator, and "
    "our Finance team then updates the ERP. Meanwhile you can download last month's invoices "
    'under \'My invoices\' in the web shop."}, {"role": "user", "content": "OK, I\'ll ask our '
    'office manager to send the request."}, {"role": "assistant", "content": "Perfect. Once '
    "Finance has updated the address, every new invoice will go there automatically at "
    'dispatch."}]}\n'
    '{"messages": [{"role": "user", "content": "Can the NW-PSU-240-24 run at full load in a '
    'cabinet that reaches 60 °C?"}, {"role": "assistant", "content": "Not at full load. Full '
    "power is available up to 50 °C; above that the unit derates by 2.5% per °C, so at 60 °C "
    'you can draw about 75% of the rated 240 W, roughly 180 W."}, {"role": "user", "content": '
    '"What if we need the full 240 W?"}, {"role": "assistant", "content": "Use the 480 W '
    "model, or improve the cabinet cooling. Please keep 25 mm of clearance above and below the "
    'unit in either case."}]}\n'
    '{"messages": [{"role": "user", "content": "We ordered 200 M12 connectors five weeks ago '
    'and no longer need them. Can we return them?"}, {"role": "assistant", "content": "I\'m '
    "sorry, unwanted goods can be returned within 30 days of delivery, and this order was "
    'delivered 34 days ago, so we cannot accept it as a return."}, {"role": "user", "content": '
    '"They are still sealed. Is there really nothing you can do?"}, {"role": "assistant", '
    '"content": "I understand. I have passed your request to your sales rep, who can check '
    'whether the connectors can be used on one of your upcoming orders instead."}]}\n'
)
