TITLE = "intelligence"
