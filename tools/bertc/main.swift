print("bertc")
