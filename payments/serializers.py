from __future__ import annotations

from rest_framework import serializers

from payments.models import Assessment, AssessmentItem


class AssessmentItemSerializer(serializers.ModelSerializer):
    class Meta:
        model = AssessmentItem
        fields = ["code", "label", "amount_centavos", "confirmed", "source"]
        ref_name = "AssessmentItem"
        extra_kwargs = {
            "confirmed": {"help_text": "False: the figure could not be confirmed as official."}
        }


class AssessmentSerializer(serializers.ModelSerializer):
    items = AssessmentItemSerializer(many=True, read_only=True)
    currency = serializers.SerializerMethodField()

    class Meta:
        model = Assessment
        fields = ["items", "total_centavos", "currency", "computed_at", "valid_until", "notes"]
        ref_name = "Assessment"

    def get_currency(self, assessment: Assessment) -> str:
        return "PHP"
