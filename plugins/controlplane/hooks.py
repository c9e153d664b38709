TITLE = "controlplane"
