"""Talaan's Fabric chaincode: the clearance contract, written with fabric-chaincode-python.

Plain Python with no Django import, deployable on its own as chaincode-as-a-service.
"""
