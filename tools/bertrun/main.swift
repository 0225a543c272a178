print("bertrun")
