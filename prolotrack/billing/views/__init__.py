"""The billing pages, one module a screen: the fee schedule, a patient's account, an invoice, a payment."""
