TITLE = "curtailment"
