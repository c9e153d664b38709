TITLE = "crm"
