// package: ledger.v1
// file: ledger/v1/ledger.proto

/* tslint:disable */
/* eslint-disable */

import * as grpc from "@grpc/grpc-js";
import * as ledger_v1_ledger_pb from "../../ledger/v1/ledger_pb";
import * as reqauth_v1_options_pb from "../../reqauth/v1/options_pb";

interface ILedgerServiceService extends grpc.ServiceDefinition<grpc.UntypedServiceImplementation> {
    ping: ILedgerServiceService_IPing;
    getBalance: ILedgerServiceService_IGetBalance;
    transfer: ILedgerServiceService_ITransfer;
    listTransactions: ILedgerServiceService_IListTransactions;
    importTransactions: ILedgerServiceService_IImportTransactions;
    reconcile: ILedgerServiceService_IReconcile;
    closeAccount: ILedgerServiceService_ICloseAccount;
}

interface ILedgerServiceService_IPing extends grpc.MethodDefinition<ledger_v1_ledger_pb.PingRequest, ledger_v1_ledger_pb.PingResponse> {
    path: "/ledger.v1.LedgerService/Ping";
    requestStream: false;
    responseStream: false;
    requestSerialize: grpc.serialize<ledger_v1_ledger_pb.PingRequest>;
    requestDeserialize: grpc.deserialize<ledger_v1_ledger_pb.PingRequest>;
    responseSerialize: grpc.serialize<ledger_v1_ledger_pb.PingResponse>;
    responseDeserialize: grpc.deserialize<ledger_v1_ledger_pb.PingResponse>;
}
interface ILedgerServiceService_IGetBalance extends grpc.MethodDefinition<ledger_v1_ledger_pb.GetBalanceRequest, ledger_v1_ledger_pb.GetBalanceResponse> {
    path: "/ledger.v1.LedgerService/GetBalance";
    requestStream: false;
    responseStream: false;
    requestSerialize: grpc.serialize<ledger_v1_ledger_pb.GetBalanceRequest>;
    requestDeserialize: grpc.deserialize<ledger_v1_ledger_pb.GetBalanceRequest>;
    responseSerialize: grpc.serialize<ledger_v1_ledger_pb.GetBalanceResponse>;
    responseDeserialize: grpc.deserialize<ledger_v1_ledger_pb.GetBalanceResponse>;
}
interface ILedgerServiceService_ITransfer extends grpc.MethodDefinition<ledger_v1_ledger_pb.TransferRequest, ledger_v1_ledger_pb.TransferResponse> {
    path: "/ledger.v1.LedgerService/Transfer";
    requestStream: false;
    responseStream: false;
    requestSerialize: grpc.serialize<ledger_v1_ledger_pb.TransferRequest>;
    requestDeserialize: grpc.deserialize<ledger_v1_ledger_pb.TransferRequest>;
    responseSerialize: grpc.serialize<ledger_v1_ledger_pb.TransferResponse>;
    responseDeserialize: grpc.deserialize<ledger_v1_ledger_pb.TransferResponse>;
}
interface ILedgerServiceService_IListTransactions extends grpc.MethodDefinition<ledger_v1_ledger_pb.ListTransactionsRequest, ledger_v1_ledger_pb.ListTransactionsResponse> {
    path: "/ledger.v1.LedgerService/ListTransactions";
    requestStream: false;
    responseStream: true;
    requestSerialize: grpc.serialize<ledger_v1_ledger_pb.ListTransactionsRequest>;
    requestDeserialize: grpc.deserialize<ledger_v1_ledger_pb.ListTransactionsRequest>;
    responseSerialize: grpc.serialize<ledger_v1_ledger_pb.ListTransactionsResponse>;
    responseDeserialize: grpc.deserialize<ledger_v1_ledger_pb.ListTransactionsResponse>;
}
interface ILedgerServiceService_IImportTransactions extends grpc.MethodDefinition<ledger_v1_ledger_pb.ImportTransactionsRequest, ledger_v1_ledger_pb.ImportTransactionsResponse> {
    path: "/ledger.v1.LedgerService/ImportTransactions";
    requestStream: true;
    responseStream: false;
    requestSerialize: grpc.serialize<ledger_v1_ledger_pb.ImportTransactionsRequest>;
    requestDeserialize: grpc.deserialize<ledger_v1_ledger_pb.ImportTransactionsRequest>;
    responseSerialize: grpc.serialize<ledger_v1_ledger_pb.ImportTransactionsResponse>;
    responseDeserialize: grpc.deserialize<ledger_v1_ledger_pb.ImportTransactionsResponse>;
}
interface ILedgerServiceService_IReconcile extends grpc.MethodDefinition<ledger_v1_ledger_pb.ReconcileRequest, ledger_v1_ledger_pb.ReconcileResponse> {
    path: "/ledger.v1.LedgerService/Reconcile";
    requestStream: true;
    responseStream: true;
    requestSerialize: grpc.serialize<ledger_v1_ledger_pb.ReconcileRequest>;
    requestDeserialize: grpc.deserialize<ledger_v1_ledger_pb.ReconcileRequest>;
    responseSerialize: grpc.serialize<ledger_v1_ledger_pb.ReconcileResponse>;
    responseDeserialize: grpc.deserialize<ledger_v1_ledger_pb.ReconcileResponse>;
}
interface ILedgerServiceService_ICloseAccount extends grpc.MethodDefinition<ledger_v1_ledger_pb.CloseAccountRequest, ledger_v1_ledger_pb.CloseAccountResponse> {
    path: "/ledger.v1.LedgerService/CloseAccount";
    requestStream: false;
    responseStream: false;
    requestSerialize: grpc.serialize<ledger_v1_ledger_pb.CloseAccountRequest>;
    requestDeserialize: grpc.deserialize<ledger_v1_ledger_pb.CloseAccountRequest>;
    responseSerialize: grpc.serialize<ledger_v1_ledger_pb.CloseAccountResponse>;
    responseDeserialize: grpc.deserialize<ledger_v1_ledger_pb.CloseAccountResponse>;
}

export const LedgerServiceService: ILedgerServiceService;

export interface ILedgerServiceServer extends grpc.UntypedServiceImplementation {
    ping: grpc.handleUnaryCall<ledger_v1_ledger_pb.PingRequest, ledger_v1_ledger_pb.PingResponse>;
    getBalance: grpc.handleUnaryCall<ledger_v1_ledger_pb.GetBalanceRequest, ledger_v1_ledger_pb.GetBalanceResponse>;
    transfer: grpc.handleUnaryCall<ledger_v1_ledger_pb.TransferRequest, ledger_v1_ledger_pb.TransferResponse>;
    listTransactions: grpc.handleServerStreamingCall<ledger_v1_ledger_pb.ListTransactionsRequest, ledger_v1_ledger_pb.ListTransactionsResponse>;
    importTransactions: grpc.handleClientStreamingCall<ledger_v1_ledger_pb.ImportTransactionsRequest, ledger_v1_ledger_pb.ImportTransactionsResponse>;
    reconcile: grpc.handleBidiStreamingCall<ledger_v1_ledger_pb.ReconcileRequest, ledger_v1_ledger_pb.ReconcileResponse>;
    closeAccount: grpc.handleUnaryCall<ledger_v1_ledger_pb.CloseAccountRequest, ledger_v1_ledger_pb.CloseAccountResponse>;
}

export interface ILedgerServiceClient {
    ping(request: ledger_v1_ledger_pb.PingRequest, callback: (error: grpc.ServiceError | null, response: ledger_v1_ledger_pb.PingResponse) => void): grpc.ClientUnaryCall;
    ping(request: ledger_v1_ledger_pb.PingRequest, metadata: grpc.Metadata, callback: (error: grpc.ServiceError | null, response: ledger_v1_ledger_pb.PingResponse) => void): grpc.ClientUnaryCall;
    ping(request: ledger_v1_ledger_pb.PingRequest, metadata: grpc.Metadata, options: Partial<grpc.CallOptions>, callback: (error: grpc.ServiceError | null, response: ledger_v1_ledger_pb.PingResponse) => void): grpc.ClientUnaryCall;
    getBalance(request: ledger_v1_ledger_pb.GetBalanceRequest, callback: (error: grpc.ServiceError | null, response: ledger_v1_ledger_pb.GetBalanceResponse) => void): grpc.ClientUnaryCall;
    getBalance(request: ledger_v1_ledger_pb.GetBalanceRequest, metadata: grpc.Metadata, callback: (error: grpc.ServiceError | null, response: ledger_v1_ledger_pb.GetBalanceResponse) => void): grpc.ClientUnaryCall;
    getBalance(request: ledger_v1_ledger_pb.GetBalanceRequest, metadata: grpc.Metadata, options: Partial<grpc.CallOptions>, callback: (error: grpc.ServiceError | null, response: ledger_v1_ledger_pb.GetBalanceResponse) => void): grpc.ClientUnaryCall;
    transfer(request: ledger_v1_ledger_pb.TransferRequest, callback: (error: grpc.ServiceError | null, response: ledger_v1_ledger_pb.TransferResponse) => void): grpc.ClientUnaryCall;
    transfer(request: ledger_v1_ledger_pb.TransferRequest, metadata: grpc.Metadata, callback: (error: grpc.ServiceError | null, response: ledger_v1_ledger_pb.TransferResponse) => void): grpc.ClientUnaryCall;
    transfer(request: ledger_v1_ledger_pb.TransferRequest, metadata: grpc.Metadata, options: Partial<grpc.CallOptions>, callback: (error: grpc.ServiceError | null, response: ledger_v1_ledger_pb.TransferResponse) => void): grpc.ClientUnaryCall;
    listTransactions(request: ledger_v1_ledger_pb.ListTransactionsRequest, options?: Partial<grpc.CallOptions>): grpc.ClientReadableStream<ledger_v1_ledger_pb.ListTransactionsResponse>;
    listTransactions(request: ledger_v1_ledger_pb.ListTransactionsRequest, metadata?: grpc.Metadata, options?: Partial<grpc.CallOptions>): grpc.ClientReadableStream<ledger_v1_ledger_pb.ListTransactionsResponse>;
    importTransactions(callback: (error: grpc.ServiceError | null, response: ledger_v1_ledger_pb.ImportTransactionsResponse) => void): grpc.ClientWritableStream<ledger_v1_ledger_pb.ImportTransactionsRequest>;
    importTransactions(metadata: grpc.Metadata, callback: (error: grpc.ServiceError | null, response: ledger_v1_ledger_pb.ImportTransactionsResponse) => void): grpc.ClientWritableStream<ledger_v1_ledger_pb.ImportTransactionsRequest>;
    importTransactions(options: Partial<grpc.CallOptions>, callback: (error: grpc.ServiceError | null, response: ledger_v1_ledger_pb.ImportTransactionsResponse) => void): grpc.ClientWritableStream<ledger_v1_ledger_pb.ImportTransactionsRequest>;
    importTransactions(metadata: grpc.Metadata, options: Partial<grpc.CallOptions>, callback: (error: grpc.ServiceError | null, response: ledger_v1_ledger_pb.ImportTransactionsResponse) => void): grpc.ClientWritableStream<ledger_v1_ledger_pb.ImportTransactionsRequest>;
    reconcile(): grpc.ClientDuplexStream<ledger_v1_ledger_pb.ReconcileRequest, ledger_v1_ledger_pb.ReconcileResponse>;
    reconcile(options: Partial<grpc.CallOptions>): grpc.ClientDuplexStream<ledger_v1_ledger_pb.ReconcileRequest, ledger_v1_ledger_pb.ReconcileResponse>;
    reconcile(metadata: grpc.Metadata, options?: Partial<grpc.CallOptions>): grpc.ClientDuplexStream<ledger_v1_ledger_pb.ReconcileRequest, ledger_v1_ledger_pb.ReconcileResponse>;
    closeAccount(request: ledger_v1_ledger_pb.CloseAccountRequest, callback: (error: grpc.ServiceError | null, response: ledger_v1_ledger_pb.CloseAccountResponse) => void): grpc.ClientUnaryCall;
    closeAccount(request: ledger_v1_ledger_pb.CloseAccountRequest, metadata: grpc.Metadata, callback: (error: grpc.ServiceError | null, response: ledger_v1_ledger_pb.CloseAccountResponse) => void): grpc.ClientUnaryCall;
    closeAccount(request: ledger_v1_ledger_pb.CloseAccountRequest, metadata: grpc.Metadata, options: Partial<grpc.CallOptions>, callback: (error: grpc.ServiceError | null, response: ledger_v1_ledger_pb.CloseAccountResponse) => void): grpc.ClientUnaryCall;
}

export class LedgerServiceClient extends grpc.Client implements ILedgerServiceClient {
    constructor(address: string, credentials: grpc.ChannelCredentials, options?: Partial<grpc.ClientOptions>);
    public ping(request: ledger_v1_ledger_pb.PingRequest, callback: (error: grpc.ServiceError | null, response: ledger_v1_ledger_pb.PingResponse) => void): grpc.ClientUnaryCall;
    public ping(request: ledger_v1_ledger_pb.PingRequest, metadata: grpc.Metadata, callback: (error: grpc.ServiceError | null, response: ledger_v1_ledger_pb.PingResponse) => void): grpc.ClientUnaryCall;
    public ping(request: ledger_v1_ledger_pb.PingRequest, metadata: grpc.Metadata, options: Partial<grpc.CallOptions>, callback: (error: grpc.ServiceError | null, response: ledger_v1_ledger_pb.PingResponse) => void): grpc.ClientUnaryCall;
    public getBalance(request: ledger_v1_ledger_pb.GetBalanceRequest, callback: (error: grpc.ServiceError | null, response: ledger_v1_ledger_pb.GetBalanceResponse) => void): grpc.ClientUnaryCall;
    public getBalance(request: ledger_v1_ledger_pb.GetBalanceRequest, metadata: grpc.Metadata, callback: (error: grpc.ServiceError | null, response: ledger_v1_ledger_pb.GetBalanceResponse) => void): grpc.ClientUnaryCall;
    public getBalance(request: ledger_v1_ledger_pb.GetBalanceRequest, metadata: grpc.Metadata, options: Partial<grpc.CallOptions>, callback: (error: grpc.ServiceError | null, response: ledger_v1_ledger_pb.GetBalanceResponse) => void): grpc.ClientUnaryCall;
    public transfer(request: ledger_v1_ledger_pb.TransferRequest, callback: (error: grpc.ServiceError | null, response: ledger_v1_ledger_pb.TransferResponse) => void): grpc.ClientUnaryCall;
    public transfer(request: ledger_v1_ledger_pb.TransferRequest, metadata: grpc.Metadata, callback: (error: grpc.ServiceError | null, response: ledger_v1_ledger_pb.TransferResponse) => void): grpc.ClientUnaryCall;
    public transfer(request: ledger_v1_ledger_pb.TransferRequest, metadata: grpc.Metadata, options: Partial<grpc.CallOptions>, callback: (error: grpc.ServiceError | null, response: ledger_v1_ledger_pb.TransferResponse) => void): grpc.ClientUnaryCall;
    public listTransactions(request: ledger_v1_ledger_pb.ListTransactionsRequest, options?: Partial<grpc.CallOptions>): grpc.ClientReadableStream<ledger_v1_ledger_pb.ListTransactionsResponse>;
    public listTransactions(request: ledger_v1_ledger_pb.ListTransactionsRequest, metadata?: grpc.Metadata, options?: Partial<grpc.CallOptions>): grpc.ClientReadableStream<ledger_v1_ledger_pb.ListTransactionsResponse>;
    public importTransactions(callback: (error: grpc.ServiceError | null, response: ledger_v1_ledger_pb.ImportTransactionsResponse) => void): grpc.ClientWritableStream<ledger_v1_ledger_pb.ImportTransactionsRequest>;
    public importTransactions(metadata: grpc.Metadata, callback: (error: grpc.ServiceError | null, response: ledger_v1_ledger_pb.ImportTransactionsResponse) => void): grpc.ClientWritableStream<ledger_v1_ledger_pb.ImportTransactionsRequest>;
    public importTransactions(options: Partial<grpc.CallOptions>, callback: (error: grpc.ServiceError | null, response: ledger_v1_ledger_pb.ImportTransactionsResponse) => void): grpc.ClientWritableStream<ledger_v1_ledger_pb.ImportTransactionsRequest>;
    public importTransactions(metadata: grpc.Metadata, options: Partial<grpc.CallOptions>, callback: (error: grpc.ServiceError | null, response: ledger_v1_ledger_pb.ImportTransactionsResponse) => void): grpc.ClientWritableStream<ledger_v1_ledger_pb.ImportTransactionsRequest>;
    public reconcile(options?: Partial<grpc.CallOptions>): grpc.ClientDuplexStream<ledger_v1_ledger_pb.ReconcileRequest, ledger_v1_ledger_pb.ReconcileResponse>;
    public reconcile(metadata?: grpc.Metadata, options?: Partial<grpc.CallOptions>): grpc.ClientDuplexStream<ledger_v1_ledger_pb.ReconcileRequest, ledger_v1_ledger_pb.ReconcileResponse>;
    public closeAccount(request: ledger_v1_ledger_pb.CloseAccountRequest, callback: (error: grpc.ServiceError | null, response: ledger_v1_ledger_pb.CloseAccountResponse) => void): grpc.ClientUnaryCall;
    public closeAccount(request: ledger_v1_ledger_pb.CloseAccountRequest, metadata: grpc.Metadata, callback: (error: grpc.ServiceError | null, response: ledger_v1_ledger_pb.CloseAccountResponse) => void): grpc.ClientUnaryCall;
    public closeAccount(request: ledger_v1_ledger_pb.CloseAccountRequest, metadata: grpc.Metadata, options: Partial<grpc.CallOptions>, callback: (error: grpc.ServiceError | null, response: ledger_v1_ledger_pb.CloseAccountResponse) => void): grpc.ClientUnaryCall;
}
