from django.urls import path

from prolotrack.billing.views import abn, account, checkout, fees, invoices, packages, payments, printing, reports

app_name = "billing"

urlpatterns = [
    path("billing/fees/", fees.fee_schedule, name="fees"),
    path("billing/reports/", reports.reports, name="reports"),
    path("billing/reports/chart/<slug:name>.<slug:fmt>", reports.chart, name="report-chart"),
    path("billing/reports/<slug:name>.csv", reports.report_csv, name="report-csv"),
    path("billing/fees/add/", fees.fee_add, name="fee-add"),
    path("billing/fees/<uuid:fee_uuid>/version/", fees.fee_version, name="fee-version"),
    path("patients/<uuid:patient_uuid>/account/", account.account, name="account"),
    path("patients/<uuid:patient_uuid>/account/invoices/new/", account.invoice_new, name="invoice-new"),
    path("patients/<uuid:patient_uuid>/account/payments/new/", account.payment_new, name="payment-new"),
    path("sessions/<uuid:session_uuid>/invoice/", account.invoice_from_session, name="invoice-from-session"),
    path("invoices/<uuid:invoice_uuid>/", invoices.invoice, name="invoice"),
    path("invoices/<uuid:invoice_uuid>/lines/", invoices.line_add, name="line-add"),
    path("invoices/<uuid:invoice_uuid>/lines/<uuid:line_uuid>/remove/", invoices.line_remove, name="line-remove"),
    path("invoices/<uuid:invoice_uuid>/issue/", invoices.invoice_issue, name="invoice-issue"),
    path("invoices/<uuid:invoice_uuid>/credit/", invoices.invoice_credit, name="invoice-credit"),
    path("invoices/<uuid:invoice_uuid>/void/", invoices.invoice_void, name="invoice-void"),
    path("invoices/<uuid:invoice_uuid>/use-credit/", invoices.invoice_use_credit, name="invoice-use-credit"),
    path("payments/<uuid:payment_uuid>/refund/", payments.payment_refund, name="payment-refund"),
    path("invoices/<uuid:invoice_uuid>/checkout/", checkout.checkout, name="checkout"),
    path("invoices/<uuid:invoice_uuid>/checkout/issue/", checkout.checkout_issue, name="checkout-issue"),
    path("invoices/<uuid:invoice_uuid>/checkout/pay/", checkout.checkout_pay, name="checkout-pay"),
    path("sessions/<uuid:session_uuid>/billing/", checkout.session_card, name="session-card"),
    path("invoices/<uuid:invoice_uuid>/pdf/", printing.invoice_pdf, name="invoice-pdf"),
    path("payments/<uuid:payment_uuid>/receipt/", printing.receipt_pdf, name="receipt-pdf"),
    path("patients/<uuid:patient_uuid>/account/superbill/", printing.superbill, name="superbill"),
    # Coverage and the Medicare ABN (docs/BILLING.md, "Medicare ABN")
    path("patients/<uuid:patient_uuid>/coverage/", abn.coverage, name="coverage"),
    path("courses/<uuid:course_uuid>/abn/", abn.abn_course, name="abn-course"),
    path("courses/<uuid:course_uuid>/abn/sign/", abn.abn_sign, name="abn-sign"),
    path("abn/<uuid:notice_uuid>/health-change/", abn.abn_health_change, name="abn-health-change"),
    path("abn/<uuid:notice_uuid>/pdf/", abn.abn_pdf, name="abn-pdf"),
]

urlpatterns += [
    path("billing/packages/add/", packages.offer_add, name="package-offer-add"),
    path("billing/packages/<uuid:fee_uuid>/version/", packages.offer_version, name="package-offer-version"),
    path("patients/<uuid:patient_uuid>/account/packages/new/", packages.sell, name="package-sell"),
    path("packages/<uuid:package_uuid>/", packages.package, name="package"),
    path("packages/<uuid:package_uuid>/link/", packages.package_link, name="package-link"),
    path("packages/<uuid:package_uuid>/settle/", packages.package_settle, name="package-settle"),
    path("courses/<uuid:course_uuid>/packages/", packages.course_card, name="course-packages"),
]
