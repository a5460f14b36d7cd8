from django.urls import path

from payments import receipt_views

urlpatterns = [
    path("", receipt_views.receipt_list, name="receipts"),
    path("<str:number>/", receipt_views.receipt_detail, name="receipt-detail"),
    path("<str:number>/pdf", receipt_views.receipt_pdf, name="receipt-pdf"),
    path("<str:number>/void/", receipt_views.receipt_void, name="receipt-void"),
]
