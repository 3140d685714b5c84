// GENERATED CODE -- DO NOT EDIT!

// Original file comments:
// A small ledger: balances, transfers, statements and bulk imports. Access is declared on
// each method with reqauth's option; reqauth reads it from a proto-loader definition
// (policyFromServiceDefinition) or from a descriptor set (policyFromDescriptorSet).
'use strict';
var grpc = require('@grpc/grpc-js');
var ledger_v1_ledger_pb = require('../../ledger/v1/ledger_pb.js');
var reqauth_v1_options_pb = require('../../reqauth/v1/options_pb.js');

function serialize_ledger_v1_CloseAccountRequest(arg) {
  if (!(arg instanceof ledger_v1_ledger_pb.CloseAccountRequest)) {
    throw new Error('Expected argument of type ledger.v1.CloseAccountRequest');
  }
  return Buffer.from(arg.serializeBinary());
}

function deserialize_ledger_v1_CloseAccountRequest(buffer_arg) {
  return ledger_v1_ledger_pb.CloseAccountRequest.deserializeBinary(new Uint8Array(buffer_arg));
}

function serialize_ledger_v1_CloseAccountResponse(arg) {
  if (!(arg instanceof ledger_v1_ledger_pb.CloseAccountResponse)) {
    throw new Error('Expected argument of type ledger.v1.CloseAccountResponse');
  }
  return Buffer.from(arg.serializeBinary());
}

function deserialize_ledger_v1_CloseAccountResponse(buffer_arg) {
  return ledger_v1_ledger_pb.CloseAccountResponse.deserializeBinary(new Uint8Array(buffer_arg));
}

function serialize_ledger_v1_GetBalanceRequest(arg) {
  if (!(arg instanceof ledger_v1_ledger_pb.GetBalanceRequest)) {
    throw new Error('Expected argument of type ledger.v1.GetBalanceRequest');
  }
  return Buffer.from(arg.serializeBinary());
}

function deserialize_ledger_v1_GetBalanceRequest(buffer_arg) {
  return ledger_v1_ledger_pb.GetBalanceRequest.deserializeBinary(new Uint8Array(buffer_arg));
}

function serialize_ledger_v1_GetBalanceResponse(arg) {
  if (!(arg instanceof ledger_v1_ledger_pb.GetBalanceResponse)) {
    throw new Error('Expected argument of type ledger.v1.GetBalanceResponse');
  }
  return Buffer.from(arg.serializeBinary());
}

function deserialize_ledger_v1_GetBalanceResponse(buffer_arg) {
  return ledger_v1_ledger_pb.GetBalanceResponse.deserializeBinary(new Uint8Array(buffer_arg));
}

function serialize_ledger_v1_ImportTransactionsRequest(arg) {
  if (!(arg instanceof ledger_v1_ledger_pb.ImportTransactionsRequest)) {
    throw new Error('Expected argument of type ledger.v1.ImportTransactionsRequest');
  }
  return Buffer.from(arg.serializeBinary());
}

function deserialize_ledger_v1_ImportTransactionsRequest(buffer_arg) {
  return ledger_v1_ledger_pb.ImportTransactionsRequest.deserializeBinary(new Uint8Array(buffer_arg));
}

function serialize_ledger_v1_ImportTransactionsResponse(arg) {
  if (!(arg instanceof ledger_v1_ledger_pb.ImportTransactionsResponse)) {
    throw new Error('Expected argument of type ledger.v1.ImportTransactionsResponse');
  }
  return Buffer.from(arg.serializeBinary());
}

function deserialize_ledger_v1_ImportTransactionsResponse(buffer_arg) {
  return ledger_v1_ledger_pb.ImportTransactionsResponse.deserializeBinary(new Uint8Array(buffer_arg));
}

function serialize_ledger_v1_ListTransactionsRequest(arg) {
  if (!(arg instanceof ledger_v1_ledger_pb.ListTransactionsRequest)) {
    throw new Error('Expected argument of type ledger.v1.ListTransactionsRequest');
  }
  return Buffer.from(arg.serializeBinary());
}

function deserialize_ledger_v1_ListTransactionsRequest(buffer_arg) {
  return ledger_v1_ledger_pb.ListTransactionsRequest.deserializeBinary(new Uint8Array(buffer_arg));
}

function serialize_ledger_v1_ListTransactionsResponse(arg) {
  if (!(arg instanceof ledger_v1_ledger_pb.ListTransactionsResponse)) {
    throw new Error('Expected argument of type ledger.v1.ListTransactionsResponse');
  }
  return Buffer.from(arg.serializeBinary());
}

function deserialize_ledger_v1_ListTransactionsResponse(buffer_arg) {
  return ledger_v1_ledger_pb.ListTransactionsResponse.deserializeBinary(new Uint8Array(buffer_arg));
}

function serialize_ledger_v1_PingRequest(arg) {
  if (!(arg instanceof ledger_v1_ledger_pb.PingRequest)) {
    throw new Error('Expected argument of type ledger.v1.PingRequest');
  }
  return Buffer.from(arg.serializeBinary());
}

function deserialize_ledger_v1_PingRequest(buffer_arg) {
  return ledger_v1_ledger_pb.PingRequest.deserializeBinary(new Uint8Array(buffer_arg));
}

function serialize_ledger_v1_PingResponse(arg) {
  if (!(arg instanceof ledger_v1_ledger_pb.PingResponse)) {
    throw new Error('Expected argument of type ledger.v1.PingResponse');
  }
  return Buffer.from(arg.serializeBinary());
}

function deserialize_ledger_v1_PingResponse(buffer_arg) {
  return ledger_v1_ledger_pb.PingResponse.deserializeBinary(new Uint8Array(buffer_arg));
}

function serialize_ledger_v1_ReconcileRequest(arg) {
  if (!(arg instanceof ledger_v1_ledger_pb.ReconcileRequest)) {
    throw new Error('Expected argument of type ledger.v1.ReconcileRequest');
  }
  return Buffer.from(arg.serializeBinary());
}

function deserialize_ledger_v1_ReconcileRequest(buffer_arg) {
  return ledger_v1_ledger_pb.ReconcileRequest.deserializeBinary(new Uint8Array(buffer_arg));
}

function serialize_ledger_v1_ReconcileResponse(arg) {
  if (!(arg instanceof ledger_v1_ledger_pb.ReconcileResponse)) {
    throw new Error('Expected argument of type ledger.v1.ReconcileResponse');
  }
  return Buffer.from(arg.serializeBinary());
}

function deserialize_ledger_v1_ReconcileResponse(buffer_arg) {
  return ledger_v1_ledger_pb.ReconcileResponse.deserializeBinary(new Uint8Array(buffer_arg));
}

function serialize_ledger_v1_TransferRequest(arg) {
  if (!(arg instanceof ledger_v1_ledger_pb.TransferRequest)) {
    throw new Error('Expected argument of type ledger.v1.TransferRequest');
  }
  return Buffer.from(arg.serializeBinary());
}

function deserialize_ledger_v1_TransferRequest(buffer_arg) {
  return ledger_v1_ledger_pb.TransferRequest.deserializeBinary(new Uint8Array(buffer_arg));
}

function serialize_ledger_v1_TransferResponse(arg) {
  if (!(arg instanceof ledger_v1_ledger_pb.TransferResponse)) {
    throw new Error('Expected argument of type ledger.v1.TransferResponse');
  }
  return Buffer.from(arg.serializeBinary());
}

function deserialize_ledger_v1_TransferResponse(buffer_arg) {
  return ledger_v1_ledger_pb.TransferResponse.deserializeBinary(new Uint8Array(buffer_arg));
}


var LedgerServiceService = exports.LedgerServiceService = {
  // Public liveness check: no request authentication.
ping: {
    path: '/ledger.v1.LedgerService/Ping',
    requestStream: false,
    responseStream: false,
    requestType: ledger_v1_ledger_pb.PingRequest,
    responseType: ledger_v1_ledger_pb.PingResponse,
    requestSerialize: serialize_ledger_v1_PingRequest,
    requestDeserialize: deserialize_ledger_v1_PingRequest,
    responseSerialize: serialize_ledger_v1_PingResponse,
    responseDeserialize: deserialize_ledger_v1_PingResponse,
  },
  // Unary: read one account's balance.
getBalance: {
    path: '/ledger.v1.LedgerService/GetBalance',
    requestStream: false,
    responseStream: false,
    requestType: ledger_v1_ledger_pb.GetBalanceRequest,
    responseType: ledger_v1_ledger_pb.GetBalanceResponse,
    requestSerialize: serialize_ledger_v1_GetBalanceRequest,
    requestDeserialize: deserialize_ledger_v1_GetBalanceRequest,
    responseSerialize: serialize_ledger_v1_GetBalanceResponse,
    responseDeserialize: deserialize_ledger_v1_GetBalanceResponse,
  },
  // Unary: move money between two accounts.
transfer: {
    path: '/ledger.v1.LedgerService/Transfer',
    requestStream: false,
    responseStream: false,
    requestType: ledger_v1_ledger_pb.TransferRequest,
    responseType: ledger_v1_ledger_pb.TransferResponse,
    requestSerialize: serialize_ledger_v1_TransferRequest,
    requestDeserialize: deserialize_ledger_v1_TransferRequest,
    responseSerialize: serialize_ledger_v1_TransferResponse,
    responseDeserialize: deserialize_ledger_v1_TransferResponse,
  },
  // Server streaming: an account's transactions, oldest first.
listTransactions: {
    path: '/ledger.v1.LedgerService/ListTransactions',
    requestStream: false,
    responseStream: true,
    requestType: ledger_v1_ledger_pb.ListTransactionsRequest,
    responseType: ledger_v1_ledger_pb.ListTransactionsResponse,
    requestSerialize: serialize_ledger_v1_ListTransactionsRequest,
    requestDeserialize: deserialize_ledger_v1_ListTransactionsRequest,
    responseSerialize: serialize_ledger_v1_ListTransactionsResponse,
    responseDeserialize: deserialize_ledger_v1_ListTransactionsResponse,
  },
  // Client streaming: import a batch of transactions, answered with a summary.
importTransactions: {
    path: '/ledger.v1.LedgerService/ImportTransactions',
    requestStream: true,
    responseStream: false,
    requestType: ledger_v1_ledger_pb.ImportTransactionsRequest,
    responseType: ledger_v1_ledger_pb.ImportTransactionsResponse,
    requestSerialize: serialize_ledger_v1_ImportTransactionsRequest,
    requestDeserialize: deserialize_ledger_v1_ImportTransactionsRequest,
    responseSerialize: serialize_ledger_v1_ImportTransactionsResponse,
    responseDeserialize: deserialize_ledger_v1_ImportTransactionsResponse,
  },
  // Bidi streaming: check entries against the ledger as they arrive.
reconcile: {
    path: '/ledger.v1.LedgerService/Reconcile',
    requestStream: true,
    responseStream: true,
    requestType: ledger_v1_ledger_pb.ReconcileRequest,
    responseType: ledger_v1_ledger_pb.ReconcileResponse,
    requestSerialize: serialize_ledger_v1_ReconcileRequest,
    requestDeserialize: deserialize_ledger_v1_ReconcileRequest,
    responseSerialize: serialize_ledger_v1_ReconcileResponse,
    responseDeserialize: deserialize_ledger_v1_ReconcileResponse,
  },
  // Declared without an access option: denied to everyone (default deny).
closeAccount: {
    path: '/ledger.v1.LedgerService/CloseAccount',
    requestStream: false,
    responseStream: false,
    requestType: ledger_v1_ledger_pb.CloseAccountRequest,
    responseType: ledger_v1_ledger_pb.CloseAccountResponse,
    requestSerialize: serialize_ledger_v1_CloseAccountRequest,
    requestDeserialize: deserialize_ledger_v1_CloseAccountRequest,
    responseSerialize: serialize_ledger_v1_CloseAccountResponse,
    responseDeserialize: deserialize_ledger_v1_CloseAccountResponse,
  },
};

exports.LedgerServiceClient = grpc.makeGenericClientConstructor(LedgerServiceService, 'LedgerService');
