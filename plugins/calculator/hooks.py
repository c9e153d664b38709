TITLE = "calculator"
