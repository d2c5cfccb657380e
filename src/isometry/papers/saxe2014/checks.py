def CHECKS(params, inputs, output):
    pass
