TITLE = "treasury"
